"""A page's per-person timers: each contact rule's send (and each send held by quiet hours),
due at its own moment, on either store.

Why rows and not in-memory timers: like a page's steps (``pages.next_at``), a rule's send must
survive a restart, a replica's death and a takeover, and go once. A step writes its people's
timers when it runs (a re-run after a crash writes nothing new: the rows are keyed); the
scheduler claims a due timer by compare-and-set, only while its page is active, so an
acknowledged or ended page sends none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

VIA = -1  # a timer's ``rule`` for a held send through the step's ``via`` (a person without rules)


@dataclass(frozen=True)
class PageTimer:
    """One person's send in one step of one page, due at ``due_at``: their contact rule
    ``rule`` (an index into their ``reach``), or ``VIA`` for the step's channels."""

    page_id: str
    round: int
    step: int
    person: str
    rule: int
    channel: str  # the rule's channel (the step's first for ``VIA``), as it was when written
    due_at: datetime
    claimed_until: datetime | None = None
    done: bool = False

    @property
    def key(self) -> tuple[str, int, int, str, int]:
        return (self.page_id, self.round, self.step, self.person, self.rule)


class TimerStore(Protocol):
    """The ``page_timers`` table (migration 14). Every write commits before it returns."""

    async def add_page_timers(self, timers: list[PageTimer]) -> int:
        """Record timers in one statement; one already recorded (same page, round, step,
        person, rule) keeps its own ``due_at``. How many were new."""
        ...

    async def page_timers(self, page_id: str) -> list[PageTimer]:
        """The page's timers by (round, step, person, rule)."""
        ...

    async def due_page_timers(self, now: datetime, limit: int = 100) -> list[PageTimer]:
        """Timers not done, due by ``now``, claimed by nobody (or a lapsed claim), of active
        pages: earliest first."""
        ...

    async def next_paging_due(self, now: datetime) -> datetime | None:
        """The earliest moment an active page's move, or a timer of one that nobody holds,
        falls due (None: nothing waits): the scheduler wakes then, not at its next tick."""
        ...

    async def claim_page_timer(self, timer: PageTimer, now: datetime, until: datetime) -> bool:
        """Take a due timer until ``until``: True for one caller, only while its page is active
        and it is not done (a claim that lapsed, its claimer gone, may be taken again)."""
        ...

    async def finish_page_timer(self, timer: PageTimer) -> bool:
        """The timer's send is recorded (or could not be made): done, never due again."""
        ...

    async def hasten_page_timer(
        self, page_id: str, round_: int, step: int, person: str, rule: int, at: datetime
    ) -> bool:
        """Bring a timer not yet done forward to ``at`` (True), if it was due later."""
        ...
