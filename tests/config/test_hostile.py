"""Files built to hurt the loader: each gets one clear problem (file, line, what, how to fix).

Control characters, self-referencing aliases, deep nesting, alias expansion ("billion laughs")
and oversized files used to end in tracebacks, a RecursionError or gigabytes of memory. The
billion-laughs test asserts the error, not a time: the timing is in the README's Config guide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from config import ConfigError, Problem
from config.loader import MAX_ALIAS_VALUES, MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES
from tests.config.helpers import ENV, PROVIDERS


def billion_laughs(levels: int = 10) -> str:
    """Each level lists the previous one nine times: 9**10 strings from ~1 KB of YAML."""
    lines = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


# name -> (file bytes, expected line, words the message must hold)
HOSTILE: dict[str, tuple[bytes, int | None, tuple[str, ...]]] = {
    "nul": (PROVIDERS.encode() + b'title: "a\x00b"\n', 13, ("U+0000", "control character")),
    "bel": (PROVIDERS.encode() + b"title: a\x07b\n", 13, ("U+0007", "control character")),
    "recursive-alias": (b"a: &a [*a]\n", 1, ("alias", "refers to itself")),
    "recursive-merge": (b"a: &a {<<: *a}\n", 1, ("alias", "refers to itself")),
    "deep": (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", 1, ("nested deeper than",)),
    "deep-block": (
        "".join(f"{'  ' * i}k{i}:\n" for i in range(200)).encode(),
        None,
        ("nested deeper than",),
    ),
    "billion-laughs": (billion_laughs().encode(), None, ("aliases expand to more than",)),
    "too-big": (b"# " + b"x" * MAX_FILE_BYTES + b"\n", None, ("larger than", "MiB")),
    # Under the size cap, yet 60,000 numbers took 3.2 s to normalise before anything was refused.
    "too-many-values": (
        (
            PROVIDERS + "contacts:\n  big: [" + ",".join(f'"+2547{i:08d}"' for i in range(60_000))
        ).encode()
        + b"]\n",
        None,
        ("more than", "values"),
    ),
}


def problems_of(tmp_path: Path, data: bytes) -> list[Problem]:
    path = tmp_path / "bridge.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        config.load(path, ENV)
    return caught.value.problems


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_file_is_one_clear_problem(tmp_path: Path, name: str) -> None:
    data, line, words = HOSTILE[name]
    (problem,) = problems_of(tmp_path, data)
    assert problem.file == str(tmp_path / "bridge.yaml")
    if line is not None:
        assert problem.line == line
    for word in words:
        assert word in problem.message, problem.message
    assert "\n" not in str(problem)
    assert ":" in problem.message  # what is wrong: how to fix it


def test_the_limits_leave_room_for_real_configs() -> None:
    assert MAX_FILE_BYTES >= 1 << 20
    assert MAX_DEPTH >= 20
    assert MAX_ALIAS_VALUES >= 1000
    assert MAX_VALUES >= 10 * MAX_ALIAS_VALUES // 5  # room for thousands of contacts


def test_merge_keys_and_small_aliases_still_work(tmp_path: Path) -> None:
    text = (
        PROVIDERS
        + "contacts:\n  a: &nums ['+254712345678']\n  b: *nums\n"
        + "channels:\n  one: &ch\n    provider: tnt\n    service: sms\n    to: [a]\n"
        + "    allowed_senders: [U012ABCDEF]\n  two:\n    <<: *ch\n    to: [b]\n"
    )
    path = tmp_path / "bridge.yaml"
    path.write_text(text, encoding="utf-8")
    settings = config.load(path, ENV)
    assert settings.channel("two").recipients == ("+254712345678",)
