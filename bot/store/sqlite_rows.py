"""SQLite rows <-> record types, timestamps, and matching recipients within a request.

Timestamps are stored as fixed-width UTC ISO 8601 text (``2024-05-01T09:30:00.000000Z``): a person
reading the file with ``sqlite3`` can understand them, and text order is time order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar, cast

import aiosqlite

from bot.store.base import (
    RecipientRecord,
    RecipientStatus,
    RequestRecord,
    RequestState,
    Surface,
)
from providers.base import Message, Recipient, Route

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_CHUNK = 500  # well under SQLite's limit on bound parameters per statement

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """A datetime as stored; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_text(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(count: int) -> str:
    return ", ".join("?" * count)


def request_record(row: sqlite3.Row) -> RequestRecord:
    finished = row["finished_at"]
    return RequestRecord(
        request_id=row["request_id"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        finished_at=from_text(finished) if finished else None,
        surface=Surface(row["surface"]),
        user_id=row["user_id"],
        slack_channel=row["slack_channel"],
        thread_ts=row["thread_ts"],
        channel=row["channel"],
        account=row["account"],
        route=Route.model_validate_json(row["route"]),
        message=Message.model_validate_json(row["message"]),
        state=RequestState(row["state"]),
        idempotency_key=row["idempotency_key"],
        parent_request_id=row["parent_request_id"],
        broadcast_id=row["broadcast_id"],
        report_channel=row["report_channel"],
        report_ts=row["report_ts"],
        title=row["title"],
        response_url=row["response_url"],
        total=int(row["total"]),
        provider_count=row["provider_count"],
        reported=row["reported_at"] is not None,
    )


def recipient_record(row: sqlite3.Row) -> RecipientRecord:
    return RecipientRecord(
        request_id=row["request_id"],
        idx=int(row["idx"]),
        address=row["address"],
        ref=row["ref"],
        status=RecipientStatus(row["status"]),
        provider_message_id=row["provider_message_id"],
        reason=row["reason"],
        code=row["code"],
        http_status=row["http_status"],
        attempts=int(row["attempts"]),
        updated_at=from_text(row["updated_at"]),
    )


async def fetch_all(
    db: aiosqlite.Connection, sql: str, params: Sequence[object] = ()
) -> list[sqlite3.Row]:
    """One trip to the connection's thread (execute, fetch and close together)."""
    rows = await db.execute_fetchall(sql, params)
    return cast(list[sqlite3.Row], list(rows))


async def fetch_one(
    db: aiosqlite.Connection, sql: str, params: Sequence[object] = ()
) -> sqlite3.Row | None:
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None


async def match_recipients(
    db: aiosqlite.Connection, request_id: str, recipients: Sequence[Recipient]
) -> tuple[list[tuple[Recipient, sqlite3.Row]], list[Recipient]]:
    """The stored rows for these recipients (by ref; by address when a caller left ref empty).

    Returns (matches, unmatched); each row also carries the request's ``account``. A ref is
    unique; an address without a ref matches every row of the request with that address.
    """
    by_ref: dict[str, sqlite3.Row] = {}
    by_address: dict[str, list[sqlite3.Row]] = {}
    refs = list({r.ref for r in recipients if r.ref})
    addresses = list({r.address for r in recipients if not r.ref})
    for column, keys in (("ref", refs), ("address", addresses)):
        for part in chunks(keys):
            rows = await fetch_all(
                db,
                "SELECT r.*, q.account AS account FROM recipients AS r"
                " JOIN requests AS q ON q.request_id = r.request_id"
                f" WHERE r.request_id = ? AND r.{column} IN ({marks(len(part))})",
                (request_id, *part),
            )
            for row in rows:
                if column == "ref":
                    by_ref[row["ref"]] = row
                else:
                    by_address.setdefault(row["address"], []).append(row)
    matches: list[tuple[Recipient, sqlite3.Row]] = []
    unmatched: list[Recipient] = []
    for recipient in recipients:
        found = [by_ref[recipient.ref]] if recipient.ref in by_ref else []
        if not recipient.ref:
            found = by_address.get(recipient.address, [])
        if not found:
            unmatched.append(recipient)
        matches.extend((recipient, row) for row in found)
    return matches, unmatched
