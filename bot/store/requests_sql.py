"""Requests, written once for both stores: creating a group atomically, reading, moving state.

Why groups: a broadcast is one request per outbound channel, submitted with one click. All of
them (and all their recipients) are written in one transaction under one idempotency key, so a
repeated submit returns the same group and a crash never leaves half a broadcast recorded. The
key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` (on PostgreSQL a second replica
submitting the same key waits for the first to commit, then reads its group); a state change
locks its row and a transition is a compare-and-set ``UPDATE``.

Every function here runs inside the caller's transaction (or read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.requests import recipient_ref
from bot.store.base import (
    UNFINISHED_STATES,
    NewRequest,
    RecipientStatus,
    RequestState,
    StoreError,
    UnknownRequest,
)
from bot.store.sql import Row, Sql, parts
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
_RECIPIENT_COLUMNS = (("idx", "int"), ("address", "text"), ("ref", "text"))
_UNFINISHED = "state IN ('held', 'accepted', 'sending')"


def check_entries(entries: Sequence[Entry]) -> None:
    """Refuse, before any write, what could only be a caller's mistake."""
    if not entries:
        raise ValueError("nothing to record: no requests")
    for record, recipients in entries:
        if not recipients:
            raise ValueError(f"request {record.request_id!r} has no recipients")
        if record.state not in (RequestState.HELD, RequestState.ACCEPTED):
            raise ValueError(f"a new request starts held or accepted, not {record.state.value}")


async def request_row(db: Sql, request_id: str) -> Row:
    row = await db.fetchrow("SELECT * FROM requests WHERE request_id = ?", (request_id,))
    if row is None:
        raise UnknownRequest(request_id)
    return row


async def get(db: Sql, request_id: str) -> Row | None:
    return await db.fetchrow("SELECT * FROM requests WHERE request_id = ?", (request_id,))


async def group_rows(db: Sql, group_id: str) -> list[Row]:
    """The requests of a broadcast (``broadcast_id``), or the one request with that id."""
    return await db.fetch(
        "SELECT * FROM requests WHERE broadcast_id = ? OR request_id = ?"
        f" ORDER BY {db.dialect.order}",
        (group_id, group_id),
    )


async def create(
    db: Sql, entries: Sequence[Entry], idempotency_key: str | None, now: object
) -> tuple[list[Row], bool]:
    """Insert every request and recipient; or, if the key was used, return that group."""
    for position, (r, recipients) in enumerate(entries):
        key = idempotency_key if position == 0 else None  # the key marks the group's first
        values = (
            r.request_id, now, now, r.surface.value, r.user_id, r.slack_channel, r.thread_ts,
            r.channel, r.account, r.route.model_dump_json(), r.message.model_dump_json(),
            r.state.value, key, r.parent_request_id, r.broadcast_id, r.report_channel,
            r.report_ts, r.title, r.response_url, len(recipients),
        )  # fmt: skip
        if key is None:
            await db.execute(_INSERT_REQUEST, values)
        elif not await db.execute(
            _INSERT_REQUEST + " ON CONFLICT (idempotency_key) DO NOTHING", values
        ):
            # The key is taken (perhaps by another replica a moment ago, now committed): nothing
            # of ours was written yet, since the keyed request is the group's first.
            return await _existing(db, key), False
        await _insert_recipients(db, r.request_id, recipients, now)
    return [await request_row(db, r.request_id) for r, _ in entries], True


async def _insert_recipients(
    db: Sql, request_id: str, recipients: Sequence[Recipient], now: object
) -> None:
    d = db.dialect
    rows = [
        (i, rc.address, rc.ref or recipient_ref(request_id, i)) for i, rc in enumerate(recipients)
    ]
    for part in parts(rows, d.list_size):
        await db.execute(
            f"WITH t (idx, address, ref) AS ({d.rows(_RECIPIENT_COLUMNS, len(part))})"
            " INSERT INTO recipients (request_id, idx, address, ref, status, attempts, updated_at)"
            " SELECT ?, idx, address, ref, 'pending', 0, ? FROM t",
            (*d.rows_params(part), request_id, now),
        )


async def _existing(db: Sql, key: str) -> list[Row]:
    existing = await db.fetchrow("SELECT * FROM requests WHERE idempotency_key = ?", (key,))
    if existing is None:  # cannot happen: the conflict was with a committed row
        raise StoreError("the idempotency key is taken but its request cannot be read; retry")
    group = existing["broadcast_id"]
    return await group_rows(db, group) if group else [existing]


async def set_state(db: Sql, request_id: str, state: RequestState, now: object) -> RequestState:
    """Forward only: done and cancelled are final. Returns the state now held."""
    held = await db.fetchrow(
        f"SELECT state FROM requests WHERE request_id = ?{db.dialect.for_update()}", (request_id,)
    )
    if held is None:
        raise UnknownRequest(request_id)
    current = RequestState(held["state"])
    if current is state or STATE_RANK[state] <= STATE_RANK[current]:
        return current
    await _write_state(db, request_id, state, now, only_from=None)
    return state


async def transition(
    db: Sql, request_id: str, from_state: RequestState, to_state: RequestState, now: object
) -> bool:
    """Compare and set: True only if the request was in ``from_state`` (confirm vs cancel)."""
    if await _write_state(db, request_id, to_state, now, only_from=from_state):
        return True
    await request_row(db, request_id)  # raises UnknownRequest if that is why
    return False


async def _write_state(
    db: Sql, request_id: str, state: RequestState, now: object, only_from: RequestState | None
) -> bool:
    """One ``UPDATE``: with ``only_from``, a row another writer moved first is not matched."""
    finished = state not in UNFINISHED_STATES
    only = "" if only_from is None else " AND state = ?"
    changed = await db.execute(
        "UPDATE requests SET state = ?, updated_at = ?"
        f"{', finished_at = ?' if finished else ''} WHERE request_id = ?{only}",
        (
            state.value, now, *((now,) if finished else ()), request_id,
            *((only_from.value,) if only_from is not None else ()),
        ),
    )  # fmt: skip
    return changed == 1


async def set_report(db: Sql, request_id: str, channel: str, ts: str, now: object) -> None:
    changed = await db.execute(
        "UPDATE requests SET report_channel = ?, report_ts = ?, updated_at = ?"
        " WHERE request_id = ?",
        (channel, ts, now, request_id),
    )
    if not changed:
        raise UnknownRequest(request_id)


async def mark_reported(db: Sql, request_ids: Sequence[str], now: object) -> None:
    d = db.dialect
    for part in parts(list(request_ids), d.list_size):
        await db.execute(
            f"UPDATE requests SET reported_at = ? WHERE {d.in_list('request_id', part)}",
            (now, *d.list_params(part)),
        )


async def batch_accepted(db: Sql, request_id: str, count: int) -> None:
    await db.execute(
        "UPDATE requests SET provider_count = COALESCE(provider_count, 0) + ? WHERE request_id = ?",
        (count, request_id),
    )


async def unreported(db: Sql) -> list[Row]:
    """Finished requests whose final report was never written (a crash in between)."""
    return await db.fetch(
        "SELECT * FROM requests WHERE state = 'done' AND reported_at IS NULL"
        f" ORDER BY created_at, {db.dialect.order}"
    )


async def unfinished(db: Sql) -> list[Row]:
    return await db.fetch(
        f"SELECT * FROM requests WHERE {_UNFINISHED} ORDER BY created_at, {db.dialect.order}"
    )


async def recent(db: Sql, user_id: str | None, limit: int) -> list[Row]:
    """Newest first; ``user_id=None`` means everyone's."""
    where, params = ("WHERE user_id = ?", [user_id]) if user_id is not None else ("", [])
    order = db.dialect.order
    return await db.fetch(
        f"SELECT * FROM requests {where} ORDER BY created_at DESC, {order} DESC LIMIT ?",
        (*params, max(0, limit)),
    )


async def recipient_rows(
    db: Sql, request_id: str, statuses: Iterable[RecipientStatus] | None
) -> list[Row]:
    sql = "SELECT * FROM recipients WHERE request_id = ?"
    params: list[object] = [request_id]
    if statuses is not None:
        wanted = [RecipientStatus(s).value for s in statuses]
        if not wanted:
            return []
        sql += f" AND {db.dialect.in_list('status', wanted)}"
        params += db.dialect.list_params(wanted)
    return await db.fetch(sql + " ORDER BY idx", params)


async def counts(db: Sql, request_id: str) -> dict[str, int]:
    """Recipients by status (every status present, zeros included) plus ``total``."""
    rows = await db.fetch(
        "SELECT q.total AS total, r.status AS status, COUNT(r.idx) AS n FROM requests AS q"
        " LEFT JOIN recipients AS r ON r.request_id = q.request_id"
        " WHERE q.request_id = ? GROUP BY q.total, r.status",
        (request_id,),
    )
    if not rows:
        raise UnknownRequest(request_id)
    result = {status.value: 0 for status in RecipientStatus}
    for row in rows:
        if row["status"] is not None:
            result[row["status"]] = int(row["n"])
    result["total"] = int(rows[0]["total"])
    return result
