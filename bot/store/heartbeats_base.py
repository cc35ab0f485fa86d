"""The heartbeat record's interface (migration v12): one row per configured heartbeat.

Why timers live in the store: a missed heartbeat must page once, whichever replica's scheduler
sees it first, and survive restarts. ``due_at`` is when the next ping is late (last ping +
``every`` + ``grace``); ``version`` moves on every ping and every miss, so the scheduler's
move from ``ok`` to ``missed`` is a compare-and-set, and a ping racing it wins or loses whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

HeartbeatState = Literal["ok", "missed"]


@dataclass(frozen=True)
class HeartbeatRecord:
    name: str
    state: HeartbeatState
    last_ping_at: datetime | None
    due_at: datetime
    missed_since: datetime | None
    page_id: str | None
    version: int


class HeartbeatStore(Protocol):
    async def watch_heartbeat(self, name: str, due_at: datetime) -> None:
        """Start watching ``name`` (due at ``due_at``) unless it is watched already: a
        heartbeat that never pings pages too."""
        ...

    async def heartbeat(self, name: str) -> HeartbeatRecord | None: ...

    async def ping_heartbeat(
        self, name: str, at: datetime, due_at: datetime
    ) -> HeartbeatRecord | None:
        """Record a ping: ``ok`` again, due at ``due_at``. Returns the record as it was just
        before (None if it was not watched yet): a ``missed`` one names the page to end."""
        ...

    async def due_heartbeats(self, now: datetime) -> list[HeartbeatRecord]:
        """``ok`` heartbeats whose ``due_at`` has passed: late, not yet paged."""
        ...

    async def miss_heartbeat(self, name: str, version: int, page_id: str, since: datetime) -> bool:
        """``ok`` → ``missed`` with its page, if still at ``version``: True for one caller."""
        ...
