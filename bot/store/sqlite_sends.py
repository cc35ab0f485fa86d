"""Attempts, outcomes and crash recovery in SQLite (the dispatcher's ``Recorder`` side).

Every function here runs inside the caller's write transaction and returns the recipients it could
not match, so the caller commits what did match before reporting the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from bot.store import sqlite_receipts as receipts
from bot.store.base import RESTARTED_REASON, RecipientRecord, RecipientStatus
from bot.store.sqlite_requests import request_row
from bot.store.sqlite_rows import (
    BY_REF,
    chunks,
    fetch_all,
    from_text,
    marks,
    match_recipients,
    recipient_record,
)
from bot.store.sqlite_thread import SyncDB
from bot.store.status import AFTER_ATTEMPT_SQL, after_attempt, after_outcome
from providers.base import Outcome, Recipient


async def start_attempt(
    db: SyncDB,
    request_id: str,
    recipients: Sequence[Recipient],
    attempt: int,
    now: str,
) -> list[Recipient]:
    """Mark the recipients in flight, log the attempt, and move the request to 'sending'.

    A whole batch in three statements (per 500 recipients): the attempts logged and the rows
    marked by ref, set-wise, then the request moved. Recipients without a ref (matched by
    address) take the row-by-row path.
    """
    if any(not r.ref for r in recipients):
        return await _start_attempt_by_row(db, request_id, recipients, attempt, now)
    refs = list(dict.fromkeys(r.ref for r in recipients))
    marked = 0
    for part in chunks(refs):
        await db.execute(
            "INSERT OR IGNORE INTO attempts (request_id, idx, attempt, started_at)"
            f" SELECT request_id, idx, ?, ? FROM recipients WHERE {BY_REF} IN ({marks(len(part))})",
            (attempt, now, request_id, *part),
        )
        cursor = await db.execute(
            f"UPDATE recipients SET status = {AFTER_ATTEMPT_SQL}, attempts = MAX(attempts, ?),"
            f" updated_at = ? WHERE {BY_REF} IN ({marks(len(part))})",
            (attempt, now, request_id, *part),
        )
        marked += cursor.rowcount
        await cursor.close()
    unmatched: list[Recipient] = []
    if marked < len(refs):  # some refs are not this request's: say which
        found = {row["ref"] for row in await _rows_by_ref(db, request_id, refs)}
        unmatched = [r for r in recipients if r.ref not in found]
    if marked == 0:
        await request_row(db, request_id)  # raises UnknownRequest if that is why
    await _move_to_sending(db, request_id, now)
    return unmatched


async def _rows_by_ref(db: SyncDB, request_id: str, refs: Sequence[str]) -> list[sqlite3.Row]:
    rows: list[sqlite3.Row] = []
    for part in chunks(refs):
        rows += await fetch_all(
            db,
            f"SELECT * FROM recipients WHERE {BY_REF} IN ({marks(len(part))})",
            (request_id, *part),
        )
    return rows


async def _move_to_sending(db: SyncDB, request_id: str, now: str) -> None:
    await db.execute(
        "UPDATE requests SET state = 'sending', updated_at = ?"
        " WHERE request_id = ? AND state = 'accepted'",
        (now, request_id),
    )


async def _start_attempt_by_row(
    db: SyncDB,
    request_id: str,
    recipients: Sequence[Recipient],
    attempt: int,
    now: str,
) -> list[Recipient]:
    """``start_attempt`` for recipients named by address only (each may match several rows)."""
    matches, unmatched = await match_recipients(db, request_id, recipients)
    if not matches:
        await request_row(db, request_id)  # raises UnknownRequest if that is why
    await db.executemany(
        "UPDATE recipients SET status = ?, attempts = MAX(attempts, ?), updated_at = ?"
        " WHERE request_id = ? AND idx = ?",
        [
            (
                after_attempt(RecipientStatus(row["status"])).value,
                attempt,
                now,
                request_id,
                row["idx"],
            )
            for _, row in matches
        ],
    )
    await db.executemany(
        "INSERT OR IGNORE INTO attempts (request_id, idx, attempt, started_at) VALUES (?, ?, ?, ?)",
        [(request_id, row["idx"], attempt, now) for _, row in matches],
    )
    await _move_to_sending(db, request_id, now)
    return unmatched


async def record_outcomes(
    db: SyncDB, request_id: str, outcomes: Sequence[Outcome], now: str
) -> list[Recipient]:
    """Write each outcome (never over a receipt's verdict), then apply receipts parked for it."""
    by_recipient = {o.recipient: o for o in outcomes}
    matches, unmatched = await match_recipients(db, request_id, list(by_recipient))
    if not matches:
        await request_row(db, request_id)  # raises UnknownRequest if that is why
        return unmatched
    account = matches[0][1]["account"]
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
            (new.value, outcome.provider_message_id, *details, outcome.attempts, row["idx"])
        )
    rows = list({row[-1]: row for row in updates}.values())  # one per idx: the last wins
    for part in chunks(rows, 400):  # 7 parameters a row: under SQLite's 32,766
        await db.execute(
            "WITH v (status, pmid, reason, code, http_status, attempts, idx) AS"
            f" (VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?)'] * len(part))})"
            " UPDATE recipients SET status = v.status,"
            " provider_message_id = COALESCE(v.pmid, recipients.provider_message_id),"
            " reason = v.reason, code = v.code, http_status = v.http_status,"
            " attempts = MAX(recipients.attempts, v.attempts), updated_at = ?"
            " FROM v WHERE recipients.request_id = ? AND recipients.idx = v.idx",
            (*(value for row in part for value in row), now, request_id),
        )
    await receipts.claim(
        db,
        account,
        [o.provider_message_id for o in outcomes if o.provider_message_id],
        [row["ref"] for _, row in matches],
        now,
    )
    return unmatched


async def recover(
    db: SyncDB, request_id: str, now: str, reason: str = RESTARTED_REASON
) -> tuple[sqlite3.Row, list[RecipientRecord], list[RecipientRecord]]:
    """In flight at a crash -> unknown (never re-sent); returns (request, those, still pending)."""
    await request_row(db, request_id)
    in_flight = await fetch_all(
        db,
        "SELECT * FROM recipients WHERE request_id = ? AND status = 'in_flight' ORDER BY idx",
        (request_id,),
    )
    await db.execute(
        "UPDATE recipients SET status = 'unknown', reason = ?, code = NULL, http_status = NULL,"
        " updated_at = ? WHERE request_id = ? AND status = 'in_flight'",
        (reason, now, request_id),
    )
    marked = [
        replace(
            recipient_record(row),
            status=RecipientStatus.UNKNOWN,
            reason=reason,
            code=None,
            http_status=None,
            updated_at=from_text(now),
        )
        for row in in_flight
    ]
    pending = await fetch_all(
        db,
        "SELECT * FROM recipients WHERE request_id = ? AND status = 'pending' ORDER BY idx",
        (request_id,),
    )
    request = await request_row(db, request_id)
    return request, marked, [recipient_record(row) for row in pending]
