"""The value types several steps of a send share: what was planned, where it came from, what was
recorded, and the states a request and its recipients move through.

Why one module: every step (policy, plan, record, dispatch, report, the Slack replies) may import
it, and it imports nothing of ours but ``providers.base``, so no step has to import another step
just to name the value it hands over.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from providers.base import Message, Recipient, Route


class Surface(enum.StrEnum):
    """Where a request came from."""

    SLASH = "slash"
    MODAL = "modal"
    BROADCAST = "broadcast"
    SHORTCUT = "shortcut"
    CLI = "cli"
    RETRY = "retry"
    PAGE = "page"  # a step (or a fallback) of a page: bot.paging


class RequestState(enum.StrEnum):
    HELD = "held"  # recorded, waiting for the sender to confirm a large send (confirm_over)
    ACCEPTED = "accepted"  # recorded, nothing attempted yet
    SENDING = "sending"  # at least one attempt started
    DONE = "done"  # every recipient has an outcome
    CANCELLED = "cancelled"  # the sender declined to confirm, or an admin stopped it


class RecipientStatus(enum.StrEnum):
    PENDING = "pending"  # not attempted yet: safe to send after a restart
    IN_FLIGHT = "in_flight"  # an attempt started; after a crash this becomes UNKNOWN
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # may have gone out: never sent again on its own
    DELIVERED = "delivered"
    READ = "read"


UNFINISHED_STATES = (RequestState.HELD, RequestState.ACCEPTED, RequestState.SENDING)


@dataclass(frozen=True)
class Plan:
    """A send that policy has approved: everything the dispatcher needs, nothing about Slack."""

    request_id: str
    channel: str
    account: str
    route: Route
    message: Message
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class Origin:
    """Who asked, from where, and where the results go."""

    surface: Surface
    user_id: str | None
    slack_channel: str | None = None
    thread_ts: str | None = None
    report_channel: str | None = None
    response_url: str | None = None
    title: str | None = None  # broadcast title for the root message

    @property
    def report_to(self) -> str | None:
        return self.report_channel or self.slack_channel


@dataclass(frozen=True)
class Submission:
    """What became of a submit: the group's requests, and whether this call created them."""

    group_id: str
    request_ids: tuple[str, ...]
    created: bool
    recipients: int
    held: bool = False


@dataclass(frozen=True)
class RequestRecord:
    """A request as the send record holds it."""

    request_id: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    surface: Surface
    user_id: str | None
    slack_channel: str | None
    thread_ts: str | None
    channel: str
    account: str
    route: Route
    message: Message
    state: RequestState
    idempotency_key: str | None
    parent_request_id: str | None
    broadcast_id: str | None
    report_channel: str | None
    report_ts: str | None
    title: str | None
    response_url: str | None
    total: int  # number of recipients
    provider_count: int | None = None  # people the provider says it queued (AutoKonnect tags)
    reported: bool = False  # its final report is written (a takeover reports it otherwise)

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED_STATES


@dataclass(frozen=True)
class RecipientRecord:
    """One recipient of a request as the send record holds it."""

    request_id: str
    idx: int
    address: str
    ref: str
    status: RecipientStatus
    provider_message_id: str | None
    reason: str | None
    code: str | None
    http_status: int | None
    attempts: int
    updated_at: datetime

    def to_recipient(self) -> Recipient:
        """The recipient as the dispatcher sends it (with the ref receipts are matched on)."""
        return Recipient(address=self.address, ref=self.ref)


@dataclass(frozen=True)
class RequestStatus:
    """One request as /send status and history show it: its record, counts and recipients."""

    record: RequestRecord
    counts: dict[str, int]
    recipients: list[RecipientRecord]
