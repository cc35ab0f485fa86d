"""Requests in SQLite: creating a group of them atomically, reading groups, moving state.

Why groups: a broadcast is one request per outbound channel, submitted with one click. All of
them (and all their recipients) are written in one transaction under one idempotency key, so a
repeated submit returns the same group and a crash never leaves half a broadcast recorded.

Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from bot.requests import recipient_ref
from bot.store.base import (
    UNFINISHED_STATES,
    NewRequest,
    RequestState,
    UnknownRequest,
)
from bot.store.sqlite_rows import fetch_all, fetch_one
from bot.store.sqlite_thread import SyncDB
from providers.base import Recipient

Entry = tuple[NewRequest, Sequence[Recipient]]

STATE_RANK = {
    RequestState.HELD: 0,
    RequestState.ACCEPTED: 0,
    RequestState.SENDING: 1,
    RequestState.DONE: 2,
    RequestState.CANCELLED: 2,
}

_INSERT_REQUEST = (
    "INSERT INTO requests (request_id, created_at, updated_at, surface, user_id, slack_channel,"
    " thread_ts, channel, account, route, message, state, idempotency_key, parent_request_id,"
    " broadcast_id, report_channel, report_ts, title, response_url, total)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_RECIPIENT = (
    "INSERT INTO recipients (request_id, idx, address, ref, status, attempts, updated_at)"
    " VALUES (?, ?, ?, ?, 'pending', 0, ?)"
)


async def request_row(db: SyncDB, request_id: str) -> sqlite3.Row:
    row = await fetch_one(db, "SELECT * FROM requests WHERE request_id = ?", (request_id,))
    if row is None:
        raise UnknownRequest(request_id)
    return row


async def group_rows(db: SyncDB, group_id: str) -> list[sqlite3.Row]:
    """The requests of a broadcast (``broadcast_id``), or the one request with that id."""
    return await fetch_all(
        db,
        "SELECT * FROM requests WHERE broadcast_id = ? OR request_id = ? ORDER BY rowid",
        (group_id, group_id),
    )


def check_entries(entries: Sequence[Entry]) -> None:
    """Refuse, before any write, what could only be a caller's mistake."""
    if not entries:
        raise ValueError("nothing to record: no requests")
    for record, recipients in entries:
        if not recipients:
            raise ValueError(f"request {record.request_id!r} has no recipients")
        if record.state not in (RequestState.HELD, RequestState.ACCEPTED):
            raise ValueError(f"a new request starts held or accepted, not {record.state.value}")


async def create(
    db: SyncDB, entries: Sequence[Entry], idempotency_key: str | None, now: str
) -> tuple[list[sqlite3.Row], bool]:
    """Insert every request and recipient; or, if the key was used, return that group."""
    if idempotency_key is not None:
        existing = await fetch_one(
            db, "SELECT * FROM requests WHERE idempotency_key = ?", (idempotency_key,)
        )
        if existing is not None:
            group = existing["broadcast_id"]
            return (await group_rows(db, group) if group else [existing]), False
    for position, (r, recipients) in enumerate(entries):
        key = idempotency_key if position == 0 else None  # the key marks the group's first
        await db.execute(
            _INSERT_REQUEST,
            (
                r.request_id, now, now, r.surface.value, r.user_id, r.slack_channel, r.thread_ts,
                r.channel, r.account, r.route.model_dump_json(), r.message.model_dump_json(),
                r.state.value, key, r.parent_request_id, r.broadcast_id, r.report_channel,
                r.report_ts, r.title, r.response_url, len(recipients),
            ),
        )  # fmt: skip
        await db.executemany(
            _INSERT_RECIPIENT,
            [
                (r.request_id, i, rc.address, rc.ref or recipient_ref(r.request_id, i), now)
                for i, rc in enumerate(recipients)
            ],
        )
    return [await request_row(db, r.request_id) for r, _ in entries], True


async def set_state(db: SyncDB, request_id: str, state: RequestState, now: str) -> RequestState:
    """Forward only: done and cancelled are final. Returns the state now held."""
    current = RequestState((await request_row(db, request_id))["state"])
    if current is state or STATE_RANK[state] <= STATE_RANK[current]:
        return current
    await _write_state(db, request_id, state, now, only_from=None)
    return state


async def transition(
    db: SyncDB,
    request_id: str,
    from_state: RequestState,
    to_state: RequestState,
    now: str,
) -> bool:
    """Compare and set: True only if the request was in ``from_state`` (confirm vs cancel)."""
    if await _write_state(db, request_id, to_state, now, only_from=from_state):
        return True
    await request_row(db, request_id)  # raises UnknownRequest if that is why
    return False


async def _write_state(
    db: SyncDB,
    request_id: str,
    state: RequestState,
    now: str,
    only_from: RequestState | None,
) -> bool:
    finished = state not in UNFINISHED_STATES
    only = only_from.value if only_from is not None else None
    cursor = await db.execute(
        "UPDATE requests SET state = ?, updated_at = ?,"
        " finished_at = CASE WHEN ? THEN ? ELSE finished_at END"
        " WHERE request_id = ? AND (? IS NULL OR state = ?)",
        (
            state.value, now, finished, now, request_id,
            only, only,
        ),
    )  # fmt: skip
    changed = cursor.rowcount == 1
    await cursor.close()
    return changed
