"""Attempts, outcomes and crash recovery in PostgreSQL (the dispatcher's ``Recorder`` side).

Same behaviour as ``sqlite_sends``. The recipients' rows are locked (``match_recipients``) before
their new status is computed from the rules in ``bot.store.status``, so a receipt applied by
another replica in between cannot be overwritten; recovery is one ``UPDATE … RETURNING``.

Every function here runs inside the caller's write transaction and returns the recipients it could
not match, so the caller commits what did match before reporting the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from bot.store import postgres_receipts as receipts
from bot.store.base import RESTARTED_REASON, RecipientRecord, RecipientStatus, UnknownRequest
from bot.store.leases import Lease, LeaseLost
from bot.store.postgres_requests import request_row
from bot.store.postgres_rows import Conn, match_recipients, recipient_record
from bot.store.status import AFTER_ATTEMPT_SQL, after_attempt, after_outcome
from providers.base import Outcome, Recipient

# $5-$7 name the lease the attempt is made under (NULL: unfenced). Its row is locked FOR SHARE
# first: a takeover (which updates it) waits for this statement, or this one sees the new epoch
# and marks nobody — so no attempt is ever recorded under a lease already taken over.
_START = (
    "WITH fence AS MATERIALIZED (SELECT 1 FROM send_leases WHERE group_id = $5"
    " AND owner = $6 AND epoch = $7 FOR SHARE),"
    " allowed AS MATERIALIZED (SELECT $5::text IS NULL OR EXISTS (SELECT 1 FROM fence) AS ok),"
    # By ref alone (unique): with request_id in the same scan the planner, before statistics
    # exist, reads every row of the request (1.5 ms at 10,000 recipients). Another request's
    # row named by mistake is locked, never updated, and reported unmatched.
    " locked AS (SELECT request_id, idx FROM recipients WHERE ref = ANY($2::text[])"
    " AND (SELECT ok FROM allowed) ORDER BY request_id, idx FOR UPDATE),"  # no deadlock
    " hit AS (UPDATE recipients AS r SET status = {after_attempt},"
    " attempts = GREATEST(r.attempts, $3), updated_at = $4 FROM locked"
    " WHERE locked.request_id = $1 AND r.request_id = $1 AND r.idx = locked.idx"
    " RETURNING r.idx, r.ref),"
    " logged AS (INSERT INTO attempts (request_id, idx, attempt, started_at)"
    " SELECT $1, idx, $3, $4 FROM hit ON CONFLICT DO NOTHING),"
    " moved AS (UPDATE requests SET state = 'sending', updated_at = $4"
    " WHERE request_id = $1 AND state = 'accepted' AND (SELECT ok FROM allowed))"
    " SELECT ref FROM hit UNION ALL SELECT NULL FROM allowed WHERE NOT ok"
).format(after_attempt=AFTER_ATTEMPT_SQL.replace("status", "r.status"))


async def start_attempt(
    conn: Conn,
    request_id: str,
    recipients: Sequence[Recipient],
    attempt: int,
    now: datetime,
    lease: Lease | None = None,
) -> list[Recipient]:
    """Mark the recipients in flight, log the attempt, and move the request to 'sending'.

    One statement for the whole batch (it commits on its own, atomically): the rows are locked
    in idx order, marked, their attempts logged and the request moved. Recipients without a
    ref (matched by address) take the row-by-row path. Under a ``lease`` that is no longer
    current nothing is written and LeaseLost is raised.
    """
    if any(not r.ref for r in recipients):
        if lease is not None:
            await fence(conn, lease)
        return await _start_attempt_by_row(conn, request_id, recipients, attempt, now)
    refs = list(dict.fromkeys(r.ref for r in recipients))
    key = (lease.group_id, lease.owner, lease.epoch) if lease else (None, None, None)
    rows = await conn.fetch(_START, request_id, refs, attempt, now, *key)
    if lease is not None and any(row["ref"] is None for row in rows):
        raise LeaseLost(lease)
    if not rows:
        await request_row(conn, request_id)  # raises UnknownRequest if that is why
    found = {row["ref"] for row in rows}
    return [r for r in recipients if r.ref not in found]


async def _start_attempt_by_row(
    conn: Conn,
    request_id: str,
    recipients: Sequence[Recipient],
    attempt: int,
    now: datetime,
) -> list[Recipient]:
    """``start_attempt`` for recipients named by address only (each may match several rows)."""
    matches, unmatched = await match_recipients(conn, request_id, recipients)
    if not matches:
        await request_row(conn, request_id)  # raises UnknownRequest if that is why
    await conn.executemany(
        "UPDATE recipients SET status = $1, attempts = GREATEST(attempts, $2), updated_at = $3"
        " WHERE request_id = $4 AND idx = $5",
        [
            (after_attempt(RecipientStatus(row["status"])).value, attempt, now, request_id, idx)
            for idx, row in _by_idx(matches)
        ],
    )
    await conn.execute(
        "INSERT INTO attempts (request_id, idx, attempt, started_at)"
        " SELECT $1, idx, $2, $3 FROM unnest($4::int[]) AS t (idx) ON CONFLICT DO NOTHING",
        request_id,
        attempt,
        now,
        [idx for idx, _ in _by_idx(matches)],
    )
    await conn.execute(
        "UPDATE requests SET state = 'sending', updated_at = $1"
        " WHERE request_id = $2 AND state = 'accepted'",
        now,
        request_id,
    )
    return unmatched


async def fence(conn: Conn, lease: Lease) -> None:
    """Hold the lease's row (FOR SHARE, until the caller's transaction ends), or raise LeaseLost
    if ``lease`` is no longer the group's current one."""
    held = await conn.fetchval(
        "SELECT true FROM send_leases WHERE group_id = $1 AND owner = $2 AND epoch = $3"
        " FOR SHARE",
        lease.group_id, lease.owner, lease.epoch,
    )  # fmt: skip
    if not held:
        raise LeaseLost(lease)


def _by_idx(
    matches: Sequence[tuple[Recipient, asyncpg.Record]],
) -> list[tuple[int, asyncpg.Record]]:
    """Each matched row once (a recipient named twice is one row), in idx order."""
    return sorted({int(row["idx"]): row for _, row in matches}.items())


async def record_outcomes(
    conn: Conn, request_id: str, outcomes: Sequence[Outcome], now: datetime
) -> list[Recipient]:
    """Write each outcome (never over a receipt's verdict), then apply receipts parked for it."""
    account = await conn.fetchval("SELECT account FROM requests WHERE request_id = $1", request_id)
    if account is None:
        raise UnknownRequest(request_id)
    # Before any row lock, as a receipt takes it: the same order everywhere, so no deadlock.
    await receipts.lock_account(conn, account, shared=True)
    by_recipient = {o.recipient: o for o in outcomes}
    matches, unmatched = await match_recipients(conn, request_id, list(by_recipient))
    if not matches:
        return unmatched
    updates = []
    for recipient, row in matches:
        outcome = by_recipient[recipient]
        current = RecipientStatus(row["status"])
        new = after_outcome(current, RecipientStatus(outcome.status.value))
        # The outcome's reason belongs to the outcome's status; a kept status keeps its own.
        if new is not current:
            details = (outcome.reason, outcome.code, outcome.http_status)
        else:
            details = (row["reason"], row["code"], row["http_status"])
        updates.append(
            (int(row["idx"]), new.value, outcome.provider_message_id, *details, outcome.attempts)
        )
    columns = list(zip(*{u[0]: u for u in updates}.values(), strict=True))  # one per idx
    await conn.execute(
        "UPDATE recipients AS r SET status = v.status,"
        " provider_message_id = COALESCE(v.pmid, r.provider_message_id), reason = v.reason,"
        " code = v.code, http_status = v.http_status, attempts = GREATEST(r.attempts, v.attempts),"
        " updated_at = $1"
        " FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],"
        " $9::int[]) AS v (idx, status, pmid, reason, code, http_status, attempts)"
        " WHERE r.request_id = $2 AND r.idx = v.idx",
        now,
        request_id,
        *(list(column) for column in columns),
    )
    await receipts.claim(
        conn,
        account,
        [o.provider_message_id for o in outcomes if o.provider_message_id],
        [row["ref"] for _, row in matches],
        now,
    )
    return unmatched


async def recover(
    conn: Conn, request_id: str, now: datetime, reason: str = RESTARTED_REASON
) -> tuple[asyncpg.Record, list[RecipientRecord], list[RecipientRecord]]:
    """In flight at a crash -> unknown (never re-sent); returns (request, those, still pending)."""
    await request_row(conn, request_id)
    marked = await conn.fetch(
        "UPDATE recipients SET status = 'unknown', reason = $1, code = NULL, http_status = NULL,"
        " updated_at = $2 WHERE request_id = $3 AND status = 'in_flight' RETURNING *",
        reason,
        now,
        request_id,
    )
    pending = await conn.fetch(
        "SELECT * FROM recipients WHERE request_id = $1 AND status = 'pending' ORDER BY idx",
        request_id,
    )
    request = await request_row(conn, request_id)
    return (
        request,
        sorted((recipient_record(row) for row in marked), key=lambda r: r.idx),
        [recipient_record(row) for row in pending],
    )
