"""Problems found in the config file, and the one error that carries all of them.

Every problem names the file, the line (when the key exists in the file), the key path and what
was expected, so an operator can fix the whole file in one pass instead of one error per start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PathPart = str | int
KeyPath = tuple[PathPart, ...]
Positions = Mapping[KeyPath, int]

REDACTED = "•••"


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
