"""The silence record's interface: what ``bot.alerts`` reads and writes, on either store.

Why silences live in the store: a silence typed at one replica must hold at every replica and
across restarts, and it must expire on the same clock the rest of the bridge runs on. Nothing
here runs a timer: a silence is active while ``starts_at <= now < ends_at`` and nobody ended it,
so it expires by itself when the clock passes ``ends_at``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Silence:
    silence_id: str
    integration: str
    matchers: tuple[tuple[str, str], ...]  # label=value pairs; none: every alert of it
    reason: str
    created_by: str  # a Slack user id
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None = None  # ended early (``/send unsilence``)
    ended_by: str | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.starts_at <= now < self.ends_at

    def matches_json(self) -> str:
        return json.dumps([list(pair) for pair in self.matchers])


def matchers_of(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


class SilenceStore(Protocol):
    """The ``alert_silences`` table (migration v12). Every write commits before it returns."""

    async def create_silence(self, silence: Silence) -> None: ...

    async def silence(self, silence_id: str) -> Silence | None: ...

    async def active_silences(self, integration: str | None, now: datetime) -> list[Silence]:
        """Silences in force at ``now`` (of one integration, or all), the newest first."""
        ...

    async def end_silence(self, silence_id: str, by: str, at: datetime) -> bool:
        """End a silence early: True if this ended it (it was in force at ``at``)."""
        ...
