"""The page record's interface: what ``bot.paging`` reads and writes, on either store.

Why compare-and-set everywhere: several processes (a restart overlapping the old one, or
replicas on PostgreSQL) run the page scheduler at once. Every move of a page is one conditional
``UPDATE`` on its ``version`` or ``state``, so exactly one of them wins each move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

PageState = Literal["active", "acknowledged", "ended"]


@dataclass(frozen=True)
class NewPage:
    page_id: str
    escalation: str
    text: str
    sender: str | None
    slack_channel: str | None
    created_at: datetime
    # One page per key (``view:<id>`` for a modal, ``slash:<trigger id>`` for ``/send page``):
    # a second start with it returns the first page. None: no dedupe.
    idempotency_key: str | None = None
    # The escalation's steps as the page started with them (``bot.paging.snapshot``).
    escalation_steps: str | None = None


@dataclass(frozen=True)
class PageCaps:
    """How many active pages (neither acknowledged nor ended) one sender, and one escalation,
    may have at once: ``defaults.max_active_pages_per_sender`` / ``..._per_escalation``."""

    per_sender: int
    per_escalation: int


class PageCapReached(Exception):
    """A page was not recorded: ``which`` ("sender" or "escalation") has ``active`` active
    pages, at or over ``limit``; ``oldest`` are some of their ids, oldest first."""

    def __init__(self, which: str, active: int, limit: int, oldest: Sequence[str]) -> None:
        super().__init__(f"{active} active pages for this {which}; the limit is {limit}")
        self.which = which
        self.active = active
        self.limit = limit
        self.oldest = tuple(oldest)


@dataclass(frozen=True)
class PageRecord:
    page_id: str
    escalation: str
    text: str
    sender: str | None
    slack_channel: str | None
    root_ts: str | None
    state: PageState
    round: int  # 0: the first pass through the steps; each repeat adds one
    step: int  # index of the step last started (-1: none yet)
    next_at: datetime | None  # when the next move is due (None: never, the page is over)
    version: int  # bumped by every move: the compare-and-set token
    created_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    ended_at: datetime | None
    idempotency_key: str | None = None
    # A scheduler's claim on posting the missing root message, until then (``claim_page_root``).
    root_claimed_until: datetime | None = None
    # Its own copy of the escalation's steps (v10); None for a page recorded before copies.
    escalation_steps: str | None = None


@dataclass(frozen=True)
class PageSend:
    """One person paged through one ``via`` channel in one step (``person``: a name from
    people, or the address itself for a contact list's number or a group channel), or through
    one of their own contact rules: then ``via_idx`` is ``-(rule + 1)`` (``rule``), which keeps
    the table's key and is never read as a ``via`` index."""

    page_id: str
    round: int
    step: int
    person: str
    via_idx: int
    channel: str
    request_id: str
    ref: str
    sent_at: datetime
    fell_back: bool = False  # its fallback (or, for a rule, the next rule) was taken

    @property
    def rule(self) -> int | None:
        """The contact rule this send was (0 the first), None for a ``via`` channel's send."""
        return -self.via_idx - 1 if self.via_idx < 0 else None


@dataclass(frozen=True)
class PageEvent:
    page_id: str
    event_key: str
    at: datetime
    text: str
    posted: bool


class PageStore(Protocol):
    """The page tables (migrations v5, v7, v8, v10). Every write commits before it returns."""

    async def create_page(self, page: NewPage, caps: PageCaps | None = None) -> PageRecord:
        """Record a new page — or, if a page with its ``idempotency_key`` exists, return that
        one and record nothing (the caller tells them apart by ``page_id``).

        With ``caps``: PageCapReached, and nothing recorded, if its sender or its escalation
        already has that many active pages. The count and the insert are one atomic step on
        every store (and across replicas): two pages racing for the last place get one."""
        ...

    async def get_page(self, page_id: str) -> PageRecord | None: ...

    async def due_pages(self, now: datetime, limit: int = 100) -> list[PageRecord]:
        """Active pages whose ``next_at`` has come."""
        ...

    async def active_pages(self) -> list[PageRecord]: ...

    async def claim_page(
        self, page_id: str, version: int, now: datetime, lease_until: datetime
    ) -> PageRecord | None:
        """Take the due move of a page: only if still active, at ``version`` and due; its
        ``next_at`` becomes ``lease_until`` (another claim may retry it after that)."""
        ...

    async def renew_page_claim(self, page_id: str, version: int, until: datetime) -> bool:
        """Keep a claimed move's lease until ``until``: only while the claim at ``version``
        (what ``claim_page`` returned) is still the page's latest move and it is active."""
        ...

    async def advance_page(
        self, page_id: str, version: int, round_: int, step: int, next_at: datetime
    ) -> bool:
        """The claimed move is done: the page is at (round, step) until ``next_at``."""
        ...

    async def end_page(self, page_id: str, version: int, at: datetime) -> bool:
        """Nobody acknowledged after the last step: ``ended`` (if still active at ``version``)."""
        ...

    async def acknowledge_page(self, page_id: str, by: str, at: datetime) -> bool:
        """First acknowledgement wins: True if this one moved the page from active."""
        ...

    async def claim_page_root(
        self, page_id: str, now: datetime, until: datetime, held: datetime | None = None
    ) -> bool:
        """Claim posting the root message of a page that has none recorded, until ``until``:
        True for one caller while nobody's claim runs past ``now``. With ``held`` (the
        ``until`` of the caller's claim) it is renewed instead, only if no one took it over."""
        ...

    async def set_page_root(self, page_id: str, channel: str, ts: str) -> bool:
        """Record the root message, unless one is recorded already (the first one stays):
        True if this one was recorded."""
        ...

    async def add_page_send(self, send: PageSend) -> bool:
        """Record a send; False if that (round, step, person, via) was recorded already."""
        ...

    async def page_sends(self, page_id: str) -> list[PageSend]: ...

    async def mark_fell_back(
        self, page_id: str, round_: int, step: int, person: str, via_idx: int
    ) -> bool:
        """Claim a fallback from this send to the next channel: True for exactly one caller."""
        ...

    async def pages_for_requests(self, request_ids: Sequence[str]) -> list[str]: ...

    async def add_page_event(self, page_id: str, event_key: str, at: datetime, text: str) -> bool:
        """Add to the timeline once per key; False if that event was recorded already."""
        ...

    async def page_events(self, page_id: str) -> list[PageEvent]:
        """The timeline in the order events were added (not by ``at``: many share one)."""
        ...

    async def mark_event_posted(self, page_id: str, event_key: str) -> bool:
        """Claim posting an event to the thread: True for exactly one caller."""
        ...
