"""The path guard in .ci/run: no tracked file may name a path outside the repository.

Why: tests once read reference files from an absolute path that only existed on the machine they
were written on, so a fresh clone failed at collection. The guard is a script CI runs; here it is
run on this repository (must pass) and on a throwaway repository (must name each offending line).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUARD = ROOT / ".ci" / "check_paths.sh"

# Built from pieces so that this file does not itself name such a path.
OUTSIDE = ["/" + "work/shared/x.json", ".." + "/shared/y", "/" + "root/.cache", "/" + "home/me/z"]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the guard needs git")


def run_guard(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(GUARD), str(repo)], capture_output=True, text=True, timeout=60, check=False
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


def test_this_repository_names_no_path_outside_itself() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = run_guard(ROOT)
    assert result.returncode == 0, result.stderr


def test_the_guard_lists_every_offending_line_of_tracked_files(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    lines = [f'PATH_{n} = "{path}"' for n, path in enumerate(OUTSIDE)]
    url_with_a_path_in_it = "https://example.com/home/" + "work/"  # split: no tracked line names it
    fine = [f'URL = "{url_with_a_path_in_it}"', 'HERE = "tests/fixtures/x.json"']
    (tmp_path / "reads.py").write_text("\n".join(fine + lines) + "\n")
    (tmp_path / "untracked.py").write_text(f'P = "{OUTSIDE[0]}"\n')
    git(tmp_path, "add", "reads.py")

    result = run_guard(tmp_path)

    assert result.returncode == 1
    assert "outside the repository" in result.stderr
    named = [line for line in result.stderr.splitlines() if line.startswith("reads.py:")]
    assert named == [f"reads.py:{n + 1 + len(fine)}:{line}" for n, line in enumerate(lines)]
    assert "untracked.py" not in result.stderr


def test_the_guard_passes_a_clean_repository_and_refuses_a_non_repository(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "ok.py").write_text('HERE = "tests/fixtures/x.json"\n')
    git(repo, "add", "ok.py")
    assert run_guard(repo).returncode == 0
    plain = tmp_path / "plain"
    plain.mkdir()
    refused = run_guard(plain)
    assert refused.returncode == 2
    assert "git checkout" in refused.stderr
