"""PostgreSQL rows <-> record types, and matching (and locking) recipients within a request.

Timestamps are ``timestamptz`` (asyncpg returns them as aware UTC datetimes); route and message
are JSON text written and read by pydantic, exactly as in SQLite (cast to ``jsonb`` to query them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.store.base import (
    RecipientRecord,
    RequestRecord,
)
from bot.store.records import recipient_record as shared_recipient_record
from bot.store.records import request_record as shared_request_record
from providers.base import Recipient

# A connection of our own or one lent by the pool: the operations take either.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


def utc(moment: datetime) -> datetime:
    """A datetime as stored; a naive one is taken to be UTC already (as SQLite's ``to_text``)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def request_record(row: asyncpg.Record) -> RequestRecord:
    return shared_request_record(row, utc)


def recipient_record(row: asyncpg.Record) -> RecipientRecord:
    return shared_recipient_record(row, utc)


# By ref alone (unique, and made from the request id): with the request id in the same scan
# the planner, before statistics exist, reads every row of the request (1.5 ms at 10,000
# recipients). Rows of another request are dropped by the caller. Ordered by (request_id, idx)
# as every writer locks: no deadlock.
_MATCH_REFS = (
    "SELECT r.*, q.account AS account FROM recipients AS r"
    " JOIN requests AS q ON q.request_id = r.request_id"
    " WHERE r.ref = ANY($1::text[]) ORDER BY r.request_id, r.idx FOR UPDATE OF r"
)
_MATCH_ADDRESSES = (
    "SELECT r.*, q.account AS account FROM recipients AS r"
    " JOIN requests AS q ON q.request_id = r.request_id"
    " WHERE r.request_id = $1 AND r.address = ANY($2::text[]) ORDER BY r.idx FOR UPDATE OF r"
)


async def match_recipients(
    conn: Conn, request_id: str, recipients: Sequence[Recipient]
) -> tuple[list[tuple[Recipient, asyncpg.Record]], list[Recipient]]:
    """The stored rows for these recipients (by ref; by address when a caller left ref empty).

    Same contract as ``sqlite_rows.match_recipients``. The rows are locked until the caller's
    transaction ends (in idx order, so two writers on one request never deadlock): the status
    the caller computes from them cannot be changed underneath it by another replica.
    """
    refs = list({r.ref for r in recipients if r.ref})
    addresses = list({r.address for r in recipients if not r.ref})
    rows = [row for row in await conn.fetch(_MATCH_REFS, refs) if row["request_id"] == request_id]
    if addresses:
        rows += await conn.fetch(_MATCH_ADDRESSES, request_id, addresses)
    wanted_refs, wanted_addresses = set(refs), set(addresses)
    by_ref: dict[str, asyncpg.Record] = {}
    by_address: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        if row["ref"] in wanted_refs:
            by_ref[row["ref"]] = row
        if row["address"] in wanted_addresses:
            by_address.setdefault(row["address"], []).append(row)
    matches: list[tuple[Recipient, asyncpg.Record]] = []
    unmatched: list[Recipient] = []
    for recipient in recipients:
        found = [by_ref[recipient.ref]] if recipient.ref in by_ref else []
        if not recipient.ref:
            found = by_address.get(recipient.address, [])
        if not found:
            unmatched.append(recipient)
        matches.extend((recipient, row) for row in found)
    return matches, unmatched
