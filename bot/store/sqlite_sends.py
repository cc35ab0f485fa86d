"""Attempts, outcomes and crash recovery in SQLite (the dispatcher's ``Recorder`` side).

Every function here runs inside the caller's write transaction and returns the recipients it could
not match, so the caller commits what did match before reporting the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace

import aiosqlite

from bot.store import sqlite_receipts as receipts
from bot.store.base import RESTARTED_REASON, RecipientRecord, RecipientStatus
from bot.store.sqlite_requests import request_row
from bot.store.sqlite_rows import (
    fetch_all,
    from_text,
    match_recipients,
    recipient_record,
)
from bot.store.status import after_attempt, after_outcome
from providers.base import Outcome, Recipient


async def start_attempt(
    db: aiosqlite.Connection,
    request_id: str,
    recipients: Sequence[Recipient],
    attempt: int,
    now: str,
) -> list[Recipient]:
    """Mark the recipients in flight, log the attempt, and move the request to 'sending'."""
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
    await db.execute(
        "UPDATE requests SET state = 'sending', updated_at = ?"
        " WHERE request_id = ? AND state = 'accepted'",
        (now, request_id),
    )
    return unmatched


async def record_outcomes(
    db: aiosqlite.Connection, request_id: str, outcomes: Sequence[Outcome], now: str
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
            (new.value, outcome.provider_message_id, *details, outcome.attempts, now,
             request_id, row["idx"])
        )  # fmt: skip
    await db.executemany(
        "UPDATE recipients SET status = ?, provider_message_id = COALESCE(?, provider_message_id),"
        " reason = ?, code = ?, http_status = ?, attempts = MAX(attempts, ?), updated_at = ?"
        " WHERE request_id = ? AND idx = ?",
        updates,
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
    db: aiosqlite.Connection, request_id: str, now: str
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
        (RESTARTED_REASON, now, request_id),
    )
    marked = [
        replace(
            recipient_record(row),
            status=RecipientStatus.UNKNOWN,
            reason=RESTARTED_REASON,
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
