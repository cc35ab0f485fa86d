"""The send record's interface: the ``Store`` protocol every backend follows, and its errors.

Why a protocol: SQLite serves one process well; a PostgreSQL backend for several workers can be
written against the same calls without touching the listeners, the dispatcher or the reporter.

What a store promises (SPEC "Promises"):

* a request and *all* its recipients are written in one transaction before anything is sent;
* an idempotency key makes a repeated submit (Slack retry, double click, restart) one request;
* every attempt is written before it is made and every outcome before it is reported;
* a recipient's status never goes backwards (``STATUS_RANK``); a receipt is applied once;
* every write is committed before the call returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from bot.store.alerts_base import AlertStore
from bot.store.canaries_sql import CanaryStore
from bot.store.errors import (
    SchemaTooNew,
    StoreError,
    UnknownRecipients,
    UnknownRequest,
    raise_unmatched,
)
from bot.store.leases import LeaseBook
from bot.store.pages_base import PageStore
from bot.store.retention_sql import OldestRecord
from bot.store.timers_base import TimerStore
from bot.values import (
    UNFINISHED_STATES,
    RecipientRecord,
    RecipientStatus,
    RequestRecord,
    RequestState,
    Surface,
)
from providers.base import Message, Outcome, Recipient, Route

# The record types and states are values every step shares (``bot.values``); the store's
# interface names them too, so they are exported from here as well.
__all__ = [
    "RESTARTED_REASON",
    "STATUS_RANK",
    "TAKEN_OVER_REASON",
    "UNFINISHED_STATES",
    "AppliedStatus",
    "NewRequest",
    "RecipientRecord",
    "RecipientStatus",
    "RecoveryResult",
    "RequestRecord",
    "RequestState",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "Surface",
    "UnknownRecipients",
    "UnknownRequest",
    "raise_unmatched",
]


# Statuses only move up this ladder. SENT, FAILED and UNKNOWN share a rung; which of them may
# replace another is decided in ``bot.store.status``.
STATUS_RANK: dict[RecipientStatus, int] = {
    RecipientStatus.PENDING: 0,
    RecipientStatus.IN_FLIGHT: 1,
    RecipientStatus.SENT: 2,
    RecipientStatus.FAILED: 2,
    RecipientStatus.UNKNOWN: 2,
    RecipientStatus.DELIVERED: 3,
    RecipientStatus.READ: 4,
}

RESTARTED_REASON = "the bridge restarted while this was being sent — it may have gone out"
# A lease taken over from another replica (bot/send/recovery.py): saying "restarted" sent
# people looking for a restart that never happened.
TAKEN_OVER_REASON = (
    "the replica sending this stopped and another replica took over this send — it may have "
    "gone out"
)


@dataclass(frozen=True)
class NewRequest:
    """What the listeners know when a request is accepted (its recipients are passed apart)."""

    request_id: str
    surface: Surface
    user_id: str | None  # None: the terminal
    channel: str  # the outbound channel's name in the config
    account: str  # the provider account's name in the config
    route: Route
    message: Message
    slack_channel: str | None = None
    thread_ts: str | None = None
    parent_request_id: str | None = None  # this is a retry of that request
    broadcast_id: str | None = None  # groups the requests of one broadcast
    report_channel: str | None = None
    report_ts: str | None = None
    title: str | None = None  # a broadcast's title, for the root message
    response_url: str | None = None  # Slack's reply hook, if the root message cannot be posted
    state: RequestState = RequestState.ACCEPTED  # or HELD until the sender confirms


@dataclass(frozen=True)
class RecoveryResult:
    """What ``recover`` did to a request interrupted by a crash, and what is left to send."""

    request: RequestRecord
    marked_unknown: tuple[RecipientRecord, ...]  # were in flight: reported, never re-sent
    pending: tuple[RecipientRecord, ...] = field(default=())  # never attempted: safe to send

    @property
    def pending_refs(self) -> tuple[str, ...]:
        return tuple(r.ref for r in self.pending)

    def to_send(self) -> tuple[Recipient, ...]:
        return tuple(r.to_recipient() for r in self.pending)


@dataclass(frozen=True)
class AppliedStatus:
    """A receipt matched to a recipient. ``changed`` is False when it told us nothing new."""

    request_id: str
    idx: int
    ref: str
    previous: RecipientStatus
    status: RecipientStatus
    event_key: str

    @property
    def changed(self) -> bool:
        return self.previous is not self.status


class SlotClaimer(Protocol):
    """Request slots and 429 pauses of an account, shared by every replica (PostgreSQL).

    Every answer is in seconds from the database's own clock reading, so replicas never compare
    their clocks (``bot.pacer`` says why).
    """

    async def claim_slots(self, account: str, count: int, interval: float) -> tuple[float, float]:
        """Claim the account's next ``count`` slots, ``interval`` s apart and none in a pause:
        return (seconds until the first, seconds the account is still paused)."""
        ...

    async def pause_account(self, account: str, seconds: float) -> float:
        """Pause the account for at least ``seconds``; return how long it is paused now."""
        ...

    async def account_pause(self, account: str) -> float:
        """Seconds the account is still paused (0 if it is not)."""
        ...


class Store(PageStore, TimerStore, AlertStore, CanaryStore, Protocol):
    """The durable send record. Every method is a coroutine; every write commits before return.

    It also satisfies ``bot.dispatch.Recorder`` (``attempt_started``, ``outcomes_recorded``).
    """

    @property
    def kind(self) -> str:
        """Which backend: ``sqlite`` or ``postgresql`` (shown by /healthz)."""
        ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...  # open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...  # close()

    async def ping(self) -> bool:
        """True if the database answers now (for /healthz); never raises."""
        ...

    async def create_request(
        self, record: NewRequest, recipients: Sequence[Recipient], idempotency_key: str | None
    ) -> tuple[RequestRecord, bool]: ...

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None: ...

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None: ...

    async def create_requests(
        self,
        entries: Sequence[tuple[NewRequest, Sequence[Recipient]]],
        idempotency_key: str | None,
    ) -> tuple[list[RequestRecord], bool]: ...

    async def get_request(self, request_id: str) -> RequestRecord | None: ...

    async def group_requests(self, group_id: str) -> list[RequestRecord]: ...

    async def transition(
        self, request_id: str, from_state: RequestState, to_state: RequestState
    ) -> bool: ...

    async def recipients(
        self, request_id: str, statuses: Iterable[RecipientStatus] | None = None
    ) -> list[RecipientRecord]: ...

    async def counts(self, request_id: str) -> dict[str, int]: ...

    async def set_state(self, request_id: str, state: RequestState) -> RequestState: ...

    async def set_report(self, request_id: str, channel: str, ts: str) -> None: ...

    async def unfinished_requests(self) -> list[RequestRecord]: ...

    async def mark_reported(self, request_ids: Sequence[str]) -> None: ...

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None: ...

    async def unreported_requests(self) -> list[RequestRecord]: ...

    async def recover(self, request_id: str, reason: str = RESTARTED_REASON) -> RecoveryResult: ...

    async def recent_requests(
        self, user_id: str | None, limit: int = 10
    ) -> list[RequestRecord]: ...

    async def find_recipient(
        self, account: str, provider_message_id: str | None = None, ref: str | None = None
    ) -> RecipientRecord | None: ...

    async def apply_status(
        self,
        account: str,
        *,
        status: RecipientStatus,
        event_key: str,
        provider_message_id: str | None = None,
        ref: str | None = None,
        at: datetime | None = None,
        reason: str | None = None,
        code: str | None = None,
    ) -> AppliedStatus | None: ...

    async def claim_parked(
        self, account: str, provider_message_ids: Sequence[str] = (), refs: Sequence[str] = ()
    ) -> list[AppliedStatus]: ...

    async def prune_parked(self) -> int: ...

    async def purge_step(self, cutoff: datetime, batch: int) -> dict[str, int]:
        """Delete at most ``batch`` finished rows older than ``cutoff`` from each table, one
        statement each (``bot.store.retention_sql``); rows deleted per table."""
        ...

    async def oldest_record(self) -> OldestRecord:
        """The oldest request and page still kept (what ``history`` says the record reaches)."""
        ...

    def lease_book(self) -> LeaseBook | None:
        """Where replicas lease the sends they own (None: one process owns them all)."""
        ...

    def slot_claimer(self) -> SlotClaimer | None:
        """Where replicas share accounts' pace (None: one process, which paces in memory)."""
        ...
