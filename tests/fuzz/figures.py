"""What the fuzz run saw, per kind of request: the closing note's figures (issue 7, section 6).

Every request a fuzz test makes is recorded here; ``tests/fuzz/conftest.py`` prints the table at
the end of the run and writes it to ``var/fuzz-figures.json``. Answer times are recorded, not
asserted, in the normal run: a loaded two-core machine is no place for a wall-clock assertion.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Kind:
    """One kind of request (slash, interactivity, webhook, config…)."""

    requests: int = 0
    server_errors: int = 0  # 5xx answers
    tracebacks: int = 0  # requests after which a traceback or unretrieved task was logged
    unexpected: int = 0  # answers outside the kind's allowed set (non-200 to a signed Slack one)
    statuses: dict[str, int] = field(default_factory=dict)
    slowest: float = 0.0  # seconds

    def add(self, status: int, seconds: float, allowed: frozenset[int], problems: int) -> None:
        self.requests += 1
        self.server_errors += status >= 500
        self.tracebacks += problems > 0
        self.unexpected += status not in allowed
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        self.slowest = max(self.slowest, seconds)


KINDS: dict[str, Kind] = {}


def record_check(
    kind: str, outcome: str, seconds: float, *, crashed: bool = False, unexpected: bool = False
) -> None:
    """A check that is not an HTTP request (a config file loaded): its outcome is the "answer"
    ("loaded", "error", "crash"); a crash counts as a traceback, a badly worded error as
    unexpected; ``requests`` is the number of files tried."""
    k = KINDS.setdefault(kind, Kind())
    k.requests += 1
    k.tracebacks += crashed
    k.unexpected += unexpected
    k.statuses[outcome] = k.statuses.get(outcome, 0) + 1
    k.slowest = max(k.slowest, seconds)


def record(kind: str, status: int, seconds: float, allowed: frozenset[int], problems: int) -> None:
    KINDS.setdefault(kind, Kind()).add(status, seconds, allowed, problems)


def table() -> list[str]:
    head = f"{'kind':<22}{'requests':>9}{'5xx':>6}{'tracebacks':>11}{'unexpected':>11}"
    lines = [head + f"{'slowest':>10}  answers"]
    for name, k in sorted(KINDS.items()):
        answers = ", ".join(f"{s}:{n}" for s, n in sorted(k.statuses.items()))
        lines.append(
            f"{name:<22}{k.requests:>9}{k.server_errors:>6}{k.tracebacks:>11}{k.unexpected:>11}"
            f"{k.slowest:>9.3f}s  {answers}"
        )
    return lines


def save(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({n: asdict(k) for n, k in sorted(KINDS.items())}, indent=1))
