"""SQLite rows <-> record types, timestamps, and matching recipients within a request.

Timestamps are stored as fixed-width UTC ISO 8601 text (``2024-05-01T09:30:00.000000Z``): a person
reading the file with ``sqlite3`` can understand them, and text order is time order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar, cast

from bot.store.base import (
    RecipientRecord,
    RequestRecord,
)
from bot.store.records import recipient_record as shared_recipient_record
from bot.store.records import request_record as shared_request_record
from bot.store.sqlite_thread import SyncDB
from providers.base import Recipient

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_CHUNK = 500  # well under SQLite's limit on bound parameters per statement

# Recipients of one request by ref, as ``f"... WHERE {BY_REF} IN (?, …)"`` (request id first).
# The unary ``+`` keeps SQLite's planner off the primary key's request_id prefix, which it
# otherwise prefers without statistics: that scans every row of the request (1.3 ms a statement
# at 10,000 recipients) where the unique index on ref finds each row directly.
BY_REF = "+request_id = ? AND ref"

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
    return shared_request_record(row, from_text)


def recipient_record(row: sqlite3.Row) -> RecipientRecord:
    return shared_recipient_record(row, from_text)


async def fetch_all(db: SyncDB, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
    """One trip to the connection's thread (execute, fetch and close together)."""
    rows = await db.execute_fetchall(sql, params)
    return cast(list[sqlite3.Row], list(rows))


async def fetch_one(db: SyncDB, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None


async def match_recipients(
    db: SyncDB, request_id: str, recipients: Sequence[Recipient]
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
                # By ref: BY_REF's unary + on the aliased column (by address, the index on
                # (request_id, address) is the right one).
                f" WHERE {'+' if column == 'ref' else ''}r.request_id = ? AND r.{column}"
                f" IN ({marks(len(part))})",
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
