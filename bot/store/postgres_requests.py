"""Requests in PostgreSQL: creating a group atomically, reading groups, moving state.

Same behaviour as ``sqlite_requests``; where SQLite relied on being the only writer, this relies
on the database: the idempotency key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` (a
second replica submitting the same key waits for the first to commit, then reads its group),
a state change locks the row (``FOR UPDATE``) and a transition is a compare-and-set ``UPDATE``.

Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from bot.requests import recipient_ref
from bot.store.base import UNFINISHED_STATES, RequestState, StoreError, UnknownRequest
from bot.store.postgres_rows import Conn
from bot.store.sqlite_requests import STATE_RANK, Entry

_COLUMNS = (
    "request_id, created_at, updated_at, surface, user_id, slack_channel, thread_ts, channel,"
    " account, route, message, state, idempotency_key, parent_request_id, broadcast_id,"
    " report_channel, report_ts, title, response_url, total"
)
_INSERT_REQUEST = (
    f"INSERT INTO requests ({_COLUMNS}) VALUES"
    " ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
    " $17, $18, $19)"
)
_INSERT_RECIPIENTS = (
    "INSERT INTO recipients (request_id, idx, address, ref, status, attempts, updated_at)"
    " SELECT $1, idx, address, ref, 'pending', 0, $2"
    " FROM unnest($3::int[], $4::text[], $5::text[]) AS t (idx, address, ref)"
)


async def request_row(conn: Conn, request_id: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM requests WHERE request_id = $1", request_id)
    if row is None:
        raise UnknownRequest(request_id)
    return row


async def group_rows(conn: Conn, group_id: str) -> list[asyncpg.Record]:
    """The requests of a broadcast (``broadcast_id``), or the one request with that id."""
    return list(
        await conn.fetch(
            "SELECT * FROM requests WHERE broadcast_id = $1 OR request_id = $1 ORDER BY seq",
            group_id,
        )
    )


async def create(
    conn: Conn, entries: Sequence[Entry], idempotency_key: str | None, now: datetime
) -> tuple[list[asyncpg.Record], bool]:
    """Insert every request and recipient; or, if the key was used, return that group."""
    for position, (r, recipients) in enumerate(entries):
        key = idempotency_key if position == 0 else None  # the key marks the group's first
        values = (
            r.request_id, now, r.surface.value, r.user_id, r.slack_channel, r.thread_ts,
            r.channel, r.account, r.route.model_dump_json(), r.message.model_dump_json(),
            r.state.value, key, r.parent_request_id, r.broadcast_id, r.report_channel,
            r.report_ts, r.title, r.response_url, len(recipients),
        )  # fmt: skip
        if key is None:
            await conn.execute(_INSERT_REQUEST, *values)
        elif not await conn.fetchval(
            _INSERT_REQUEST + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING true", *values
        ):
            # The key is taken (perhaps by another replica a moment ago, now committed): nothing
            # of ours was written yet, since the keyed request is the group's first.
            return await _existing(conn, key), False
        await conn.execute(
            _INSERT_RECIPIENTS,
            r.request_id,
            now,
            list(range(len(recipients))),
            [rc.address for rc in recipients],
            [rc.ref or recipient_ref(r.request_id, i) for i, rc in enumerate(recipients)],
        )
    return [await request_row(conn, r.request_id) for r, _ in entries], True


async def _existing(conn: Conn, key: str) -> list[asyncpg.Record]:
    existing = await conn.fetchrow("SELECT * FROM requests WHERE idempotency_key = $1", key)
    if existing is None:  # cannot happen: the conflict was with a committed row
        raise StoreError("the idempotency key is taken but its request cannot be read; retry")
    group = existing["broadcast_id"]
    return await group_rows(conn, group) if group else [existing]


async def set_state(
    conn: Conn, request_id: str, state: RequestState, now: datetime
) -> RequestState:
    """Forward only: done and cancelled are final. Returns the state now held."""
    held = await conn.fetchval(
        "SELECT state FROM requests WHERE request_id = $1 FOR UPDATE", request_id
    )
    if held is None:
        raise UnknownRequest(request_id)
    current = RequestState(held)
    if current is state or STATE_RANK[state] <= STATE_RANK[current]:
        return current
    await _write_state(conn, request_id, state, now, only_from=None)
    return state


async def transition(
    conn: Conn,
    request_id: str,
    from_state: RequestState,
    to_state: RequestState,
    now: datetime,
) -> bool:
    """Compare and set: True only if the request was in ``from_state`` (confirm vs cancel)."""
    if await _write_state(conn, request_id, to_state, now, only_from=from_state):
        return True
    await request_row(conn, request_id)  # raises UnknownRequest if that is why
    return False


async def _write_state(
    conn: Conn,
    request_id: str,
    state: RequestState,
    now: datetime,
    only_from: RequestState | None,
) -> bool:
    """One ``UPDATE``: with ``only_from``, a row another writer moved first is not matched."""
    finished = state not in UNFINISHED_STATES
    changed = await conn.fetchval(
        "UPDATE requests SET state = $1, updated_at = $2,"
        " finished_at = CASE WHEN $3::boolean THEN $2 ELSE finished_at END"
        " WHERE request_id = $4 AND ($5::text IS NULL OR state = $5::text) RETURNING true",
        state.value,
        now,
        finished,
        request_id,
        only_from.value if only_from is not None else None,
    )
    return bool(changed)
