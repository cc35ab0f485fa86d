"""The README's Environment section names every variable the bridge's code reads."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
READS = re.compile(r"""(?:environ|env)\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_every_environment_variable_the_code_reads_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Environment", 1)[1].split("\n## ", 1)[0]
    sources = [*(REPO / "bot").rglob("*.py"), *(REPO / "config").rglob("*.py")]
    read = {name for path in sources for name in READS.findall(path.read_text(encoding="utf-8"))}
    assert {"SLACK_COMMAND", "SLACK_API_URL", "LOG_FORMAT"} <= read  # the pattern still matches
    missing = sorted(name for name in read if f"`{name}`" not in section)
    assert missing == [], f"add these to the README's Environment section: {missing}"
