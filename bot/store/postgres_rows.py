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
    RecipientStatus,
    RequestRecord,
    RequestState,
    Surface,
)
from providers.base import Message, Recipient, Route

# A connection of our own or one lent by the pool: the operations take either.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


def utc(moment: datetime) -> datetime:
    """A datetime as stored; a naive one is taken to be UTC already (as SQLite's ``to_text``)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def request_record(row: asyncpg.Record) -> RequestRecord:
    return RequestRecord(
        request_id=row["request_id"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        finished_at=utc(row["finished_at"]) if row["finished_at"] else None,
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


def recipient_record(row: asyncpg.Record) -> RecipientRecord:
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
        updated_at=utc(row["updated_at"]),
    )


_MATCH = (
    "SELECT r.*, q.account AS account FROM recipients AS r"
    " JOIN requests AS q ON q.request_id = r.request_id"
    " WHERE r.request_id = $1 AND (r.ref = ANY($2::text[]) OR r.address = ANY($3::text[]))"
    " ORDER BY r.idx FOR UPDATE OF r"
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
    rows = await conn.fetch(_MATCH, request_id, refs, addresses)
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
