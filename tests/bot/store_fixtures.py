"""Shared builders for the send-record tests (a plain module, so pytest collects nothing here)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.requests import recipient_ref
from bot.store import NewRequest, SQLiteStore, Surface
from providers.base import Message, Outcome, OutcomeStatus, Recipient, Route, Service

ACCOUNT = "tnt"
ROUTE = Route(service=Service.SMS, sender_id="ACME")
MESSAGE = Message(text="Database failover in progress")


def new_request(
    request_id: str = "RTEST0001",
    *,
    user_id: str | None = "U0SRE",
    surface: Surface = Surface.SLASH,
    account: str = ACCOUNT,
    **extra: object,
) -> NewRequest:
    return NewRequest(
        request_id=request_id,
        surface=surface,
        user_id=user_id,
        channel="oncall-sms",
        account=account,
        route=ROUTE,
        message=MESSAGE,
        slack_channel="C0INCIDENTS",
        **extra,  # type: ignore[arg-type]
    )


def recipients(request_id: str, count: int) -> list[Recipient]:
    """Numbers +254700000000, +254700000001, … with the refs policy gives them."""
    return [
        Recipient(address=f"+2547{i:08d}", ref=recipient_ref(request_id, i)) for i in range(count)
    ]


def sent(recipient: Recipient, message_id: str | None = None, attempts: int = 1) -> Outcome:
    return Outcome(
        recipient=recipient,
        status=OutcomeStatus.SENT,
        provider_message_id=message_id,
        attempts=attempts,
    )


def failed(recipient: Recipient, reason: str = "the number is not on WhatsApp") -> Outcome:
    return Outcome(
        recipient=recipient, status=OutcomeStatus.FAILED, reason=reason, code="E1", http_status=400
    )


class Clock:
    """A clock the test moves by hand (for created_at order and receipt TTLs)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def store_at(path: Path, clock: Callable[[], datetime] | None = None, **kw: object) -> SQLiteStore:
    if clock is not None:
        kw["clock"] = clock
    return SQLiteStore(path, **kw)  # type: ignore[arg-type]
