"""Fuzz the config file: ``config.load`` (what ``python -m bot check`` calls) and ``describe``.

Issue 7, sections 4 and 6: a NUL or BEL, ``a: &a [*a]``, 5,000-deep nesting printed tracebacks and
a "billion laughs" file ran 44 s. Any file gives a ``Settings`` (then ``describe`` prints it) or a
``ConfigError`` whose problems are one non-empty line each, naming the file (and a line that is in
it); never another exception, never a secret's value. Time is recorded in the figures ("config").
"""

from __future__ import annotations

import copy
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import config
from config import ConfigError
from config.describe import describe
from tests.fuzz import figures
from tests.fuzz.slack_rig import EXAMPLES

EXAMPLE_PATH = Path(config.__file__).with_name("bridge.example.yaml")
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_PATH.read_text())
NOW = datetime(2026, 11, 24, 17, tzinfo=UTC)  # when the example's calendars cover the next 4 weeks
ENV = {
    "TALKNTALK_API_KEY": "sk-fuzz-tnt-91f3c0",
    "AUTOKONNECT_API_KEY": "sk-fuzz-ak-72b1d4",
    "KALEYRA_API_KEY": "sk-fuzz-kal-5e08aa",
    "FUZZ_WEBHOOK_SECRET": "whsec-fuzz-3c9d71",
    "PLAIN": "plain-value",
    "EMPTY": "",
}
YAML_BREAKS = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # YAML counts lines by these
SECRETS = [v for k, v in ENV.items() if k.endswith(("_KEY", "_SECRET"))]

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


KEYS = sorted(_keys(EXAMPLE) | {"<<", "max_batch", "webhook_secret", "ical", "refresh", "x"})
REFS = ["${TALKNTALK_API_KEY}", "${FUZZ_WEBHOOK_SECRET}", "${PLAIN}", "${EMPTY}", "${UNSET}",
        "${PLAIN:-d}",
        "${UNSET:-}", "${1BAD}", "${", "$", "$$", "}", "${A:-${B}}", "${ }"]  # fmt: skip
CONTROL = [chr(c) for c in (*range(0x20), 0x7F, 0x85, 0xFEFF, 0xFFFE, 0xD7FF, 0x2028)]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.lists(st.sampled_from([*REFS, "x", "+254712345678", "24h", "-1"]), max_size=3).map("".join),
    st.sampled_from(["yes", "on", "0712345678", "1e999", "12:30", "2026-01-01", "~", "-.inf"]),
    st.text(st.sampled_from([*CONTROL, "a", " "]), max_size=6),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                max_size=3),
    max_leaves=10,
)  # fmt: skip


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for key, value in items:
        found += _paths(value, (*prefix, key))
    return found


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    """The example config with one to four parts deleted, replaced or added, wrong types welcome."""
    data = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(data)))
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["delete", "replace", "add"]))
        if how == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.sampled_from(KEYS))] = draw(values)
        else:
            parent[path[-1]] = draw(values)
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)


@st.composite
def one_text_changed(draw: st.DrawFn) -> str:
    """The example with one of its texts changed a little: far enough in to reach resolution."""
    data = copy.deepcopy(EXAMPLE)
    texts = [p for p in _paths(data) if isinstance(_at(data, p), str)]
    path = draw(st.sampled_from(texts))
    text = _at(data, path)
    at = draw(st.integers(0, len(text)))
    piece = draw(st.sampled_from([*CONTROL, *REFS, "/", "..", "://", "x" * 300]))
    _at(data, path[:-1])[path[-1]] = text[:at] + piece + text[at:]
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


@st.composite
def with_noise(draw: st.DrawFn, text: str) -> str:
    """``text`` with control characters, ``${…}`` forms or YAML punctuation dropped in."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from([*CONTROL, *REFS, "&a ", "*a", "<<: *a\n", "\t", ": ", "- "]))
        text = text[:at] + piece + text[at:]
    return text


def _laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _merges(levels: int, width: int) -> str:
    lines = ["m0: &m0 {k: v}"]
    for i in range(1, levels):
        subs = ", ".join(f"*m{i - 1}" for _ in range(width))
        lines.append(f"m{i}: &m{i} {{<<: [{subs}], k{i}: v}}")
    return "\n".join(lines) + "\n"


HOSTILE = [
    "a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a {<<: *a}\n", "a: &a\n  <<: *a\n", "<<: 5\n",
    "a: &a [1]\nb: {<<: *a}\n", "a: *nothing\n", "? [a]\n: b\n", "--- a\n--- b\n",
    "!!python/name:os.system a\n",
    "a: !!binary ?\n", "defaults: !!set {a}\n", "\ufeffdefaults: {}\n", "", "~\n", "[]\n", "- 1\n",
    "providers: {tnt: {type: talkntalk, api_key: ${TALKNTALK_API_KEY}, sid: ${KALEYRA_API_KEY}}}\n",
]  # fmt: skip

files = st.one_of(
    mutated_example(),
    one_text_changed(),
    mutated_example().flatmap(with_noise),
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.sampled_from(HOSTILE).flatmap(with_noise),
    st.sampled_from(HOSTILE),
    st.integers(1, 20_000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 20_000).map(lambda n: "{a: " * n + "1" + "}" * n),
    st.integers(1, 3_000).map(lambda n: "".join(f"{'  ' * i}k{i}:\n" for i in range(n)) + "x"),
    st.integers(1, 3_000).map(lambda n: "- " * n + "x\n"),
    st.tuples(st.integers(2, 12), st.integers(2, 12)).map(lambda lw: _laughs(*lw)),
    st.tuples(st.integers(2, 8), st.integers(2, 12)).map(lambda lw: _merges(*lw)),
    st.integers(1, (1 << 20) + 10).map(lambda n: "defaults:\n  country: " + "A" * n + "\n"),
    st.integers(1, 200_000).map(lambda n: "x: " + "${PLAIN}" * n + "\n"),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-config")


def _check_error(error: ConfigError, shown: str, text: bytes) -> list[str]:
    """What is wrong with how ``error`` reports the file's problems (empty when all is well)."""
    wrong: list[str] = []
    if not error.problems:
        wrong.append("a ConfigError with no problem in it")
    lines = len(YAML_BREAKS.findall(text.decode("utf-8", "replace"))) + 1
    for problem in error.problems:
        said = str(problem)
        if "\n" in said or "\r" in said or not problem.message.strip():
            wrong.append(f"not one non-empty line: {said!r}")
        if problem.file != shown:
            wrong.append(f"names {problem.file!r}, not the file: {said!r}")
        if problem.line is not None and not 1 <= problem.line <= lines:
            wrong.append(f"line {problem.line} is not in the file ({lines} lines): {said!r}")
        if "Traceback" in said:
            wrong.append(f"a traceback in a message: {said!r}")
    return wrong


@FUZZ
@given(content=files)
def test_any_config_file_loads_or_says_what_is_wrong_one_line_a_problem(
    folder: Path, content: str | bytes
) -> None:
    raw = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    path = folder / "bridge.yaml"
    path.write_bytes(raw)
    started = time.perf_counter()
    outcome, said, wrong = "loaded", "", []
    try:
        loaded = config.load(path, ENV, NOW)
        said = describe(loaded, NOW)
    except ConfigError as exc:
        outcome, said = "error", str(exc)
        wrong = _check_error(exc, str(path), raw)
    except Exception as exc:  # the defect this test exists to find: record it, then fail
        figures.record_check("config", "crash", time.perf_counter() - started, crashed=True)
        raise AssertionError(f"{type(exc).__name__} from a config file: {raw[:300]!r}") from exc
    wrong += [f"a secret's value is shown: {s}" for s in SECRETS if s in said]
    seconds = time.perf_counter() - started
    figures.record_check("config", outcome, seconds, unexpected=bool(wrong))
    assert wrong == [], (wrong, raw[:300])


def test_a_nul_in_a_calendar_path_is_a_problem_not_a_crash(folder: Path) -> None:
    """Found by the fuzzer: ``Path.open`` raises ValueError (not OSError) on a NUL."""
    data = copy.deepcopy(EXAMPLE)
    data["schedules"]["secondary"]["ical"] = "config/second\x00ary.ics"
    path = folder / "nul.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as caught:
        config.load(path, ENV, NOW)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{_line_of(path, 'ical:')}: schedules.secondary.ical: a file path cannot contain "
        "a NUL character (\\x00): write the calendar's path or https URL"
    ]


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)
