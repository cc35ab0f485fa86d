"""Problems found in the config file, and the one error that carries all of them.

Every problem names the file, the line (when the key exists in the file), the key path and what
was expected, so an operator can fix the whole file in one pass instead of one error per start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import yaml

PathPart = str | int
KeyPath = tuple[PathPart, ...]
Positions = Mapping[KeyPath, int]

REDACTED = "•••"


def names_list(names: Iterable[str]) -> str:
    """Defined names for a refusal, sorted (a set's order would change from run to run)."""
    return ", ".join(sorted(names)) or "none"


def format_path(path: Iterable[PathPart]) -> str:
    """``("contacts", "oncall", 1)`` -> ``contacts.oncall[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file; ``line`` is 1-based, None when the key is not in the file."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """The config cannot be used; ``problems`` lists everything found, ``str()`` one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def line_of(positions: Positions, path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest ancestor that is in the file."""
    for end in range(len(path), -1, -1):
        line = positions.get(path[:end])
        if line is not None:
            return line
    return None


class Reporter:
    """Collects problems against key paths; lines come from the loader's positions."""

    def __init__(self, file: str, positions: Positions) -> None:
        self.file = file
        self.positions = positions
        self.problems: list[Problem] = []

    def add(self, path: KeyPath, message: str, *, line: int | None = None) -> None:
        if line is None:
            line = line_of(self.positions, path)
        self.problems.append(Problem(self.file, line, format_path(path), message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def error(self, secrets: Iterable[str] = ()) -> ConfigError:
        """All problems, sorted by line, with any secret value blotted out of the messages."""
        hidden = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        clean: list[Problem] = []
        for problem in self.problems:
            message, path = problem.message, problem.path
            for secret in hidden:
                message = message.replace(secret, REDACTED)
                path = path.replace(secret, REDACTED)
            clean.append(Problem(problem.file, problem.line, path, message))
        unique = list(dict.fromkeys(clean))
        unique.sort(key=lambda p: (p.line is None, p.line or 0))
        return ConfigError(unique)


_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 0x1B: "ESC", 0x7F: "DEL"}


def yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """A YAML error as (message, line), in the parser's phrases but never its snippet of the
    line (it could hold a secret)."""
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        name = _CONTROL_NAMES.get(code)
        kind = "control character" if code < 0x20 or 0x7F <= code < 0xA0 else "character"
        what = f"{kind} U+{code:04X}" + (f" ({name})" if name else "")
        line = text.count("\n", 0, exc.position) + 1
        fix = f"delete it, or inside double quotes write it as the escape \\x{code:02X}"
        if code > 0xFF:
            fix = f"delete it, or inside double quotes write it as the escape \\u{code:04X}"
        return f"not valid YAML: {what} is not allowed in YAML: {fix}", line
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        if "\\t" in what or "\t" in what:
            what += " (indent with spaces, not tabs)"
        return f"not valid YAML: {what}", (mark.line + 1 if mark is not None else None)
    return f"not valid YAML: {type(exc).__name__}", None
