"""Delivery receipts in SQLite: dedupe, match, apply monotonically, or park until the send lands.

Why parking: a provider can post a receipt before our send's response (with its message id) is
recorded. Such a receipt waits in ``receipts`` unmatched and is applied by ``claim_parked`` in the
same transaction that records the outcome; one never matched is pruned after a TTL.

Every function here runs inside the caller's write transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bot.store.base import AppliedStatus, RecipientStatus
from bot.store.sqlite_rows import chunks, fetch_all, fetch_one, marks, to_text
from bot.store.sqlite_thread import SyncDB
from bot.store.status import after_receipt

FAILED_BY_RECEIPT = "the provider reported that the message could not be delivered"

_BY_REF = (
    "SELECT r.* FROM recipients AS r JOIN requests AS q ON q.request_id = r.request_id"
    " WHERE q.account = ? AND r.ref = ?"
)
_BY_MESSAGE_ID = (
    "SELECT r.* FROM recipients AS r JOIN requests AS q ON q.request_id = r.request_id"
    " WHERE q.account = ? AND r.provider_message_id = ?"
    " ORDER BY q.created_at DESC, r.idx LIMIT 1"
)


async def find(
    db: SyncDB, account: str, provider_message_id: str | None, ref: str | None
) -> sqlite3.Row | None:
    """Our ref is exact, so it is tried first; then the provider's message id."""
    if ref:
        row = await fetch_one(db, _BY_REF, (account, ref))
        if row is not None:
            return row
    if provider_message_id:
        return await fetch_one(db, _BY_MESSAGE_ID, (account, provider_message_id))
    return None


async def record(
    db: SyncDB,
    *,
    account: str,
    provider_message_id: str | None,
    ref: str | None,
    status: RecipientStatus,
    reason: str | None,
    code: str | None,
    event_key: str,
    at: datetime | None,
    now: str,
) -> int | None:
    """Insert the raw event; None if this event key was seen before (a repeated webhook)."""
    cursor = await db.execute(
        "INSERT OR IGNORE INTO receipts (account, provider_message_id, ref, status, reason, code,"
        " event_key, event_at, received_at, matched) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        (
            account,
            provider_message_id,
            ref,
            status.value,
            reason,
            code,
            event_key,
            to_text(at) if at else None,
            now,
        ),
    )
    inserted = cursor.rowcount
    receipt_id = cursor.lastrowid
    await cursor.close()
    return receipt_id if inserted == 1 else None


async def apply(
    db: SyncDB,
    recipient: sqlite3.Row,
    *,
    receipt_id: int,
    status: RecipientStatus,
    reason: str | None,
    code: str | None,
    event_key: str,
    now: str,
) -> AppliedStatus:
    """Move the recipient up (never down) and mark the receipt matched."""
    previous = RecipientStatus(recipient["status"])
    new = after_receipt(previous, status)
    if new is not previous:
        failed = new is RecipientStatus.FAILED
        await db.execute(
            "UPDATE recipients SET status = ?, reason = ?, code = ?, http_status = ?,"
            " updated_at = ? WHERE request_id = ? AND idx = ?",
            (
                new.value,
                (reason or FAILED_BY_RECEIPT) if failed else None,
                code if failed else None,
                None,
                now,
                recipient["request_id"],
                recipient["idx"],
            ),
        )
    await db.execute(
        "UPDATE receipts SET matched = 1, request_id = ?, idx = ? WHERE id = ?",
        (recipient["request_id"], recipient["idx"], receipt_id),
    )
    return AppliedStatus(
        request_id=recipient["request_id"],
        idx=int(recipient["idx"]),
        ref=recipient["ref"],
        previous=previous,
        status=new,
        event_key=event_key,
    )


async def claim(
    db: SyncDB,
    account: str,
    provider_message_ids: Sequence[str],
    refs: Sequence[str],
    now: str,
) -> list[AppliedStatus]:
    """Apply the parked receipts for these message ids / refs, oldest event first."""
    parked: dict[int, sqlite3.Row] = {}
    keys = list(dict.fromkeys(k for k in (*provider_message_ids, *refs) if k))
    # Both columns against one list: one query per chunk. A receipt found through the "wrong"
    # column is still matched below by its own message id / ref, so this only widens the net.
    for part in chunks(keys, 250):
        rows = await fetch_all(
            db,
            "SELECT * FROM receipts WHERE matched = 0 AND account = ?"
            f" AND (provider_message_id IN ({marks(len(part))}) OR ref IN ({marks(len(part))}))",
            (account, *part, *part),
        )
        parked.update((int(row["id"]), row) for row in rows)
    ordered = sorted(
        parked.values(), key=lambda r: (r["event_at"] or r["received_at"], int(r["id"]))
    )
    applied: list[AppliedStatus] = []
    for receipt in ordered:
        recipient = await find(db, account, receipt["provider_message_id"], receipt["ref"])
        if recipient is None:
            continue
        applied.append(
            await apply(
                db,
                recipient,
                receipt_id=int(receipt["id"]),
                status=RecipientStatus(receipt["status"]),
                reason=receipt["reason"],
                code=receipt["code"],
                event_key=receipt["event_key"],
                now=now,
            )
        )
    return applied


async def prune(db: SyncDB, older_than: str) -> int:
    """Forget parked receipts received before ``older_than``: their send is not ours, or lost."""
    cursor = await db.execute(
        "DELETE FROM receipts WHERE matched = 0 AND received_at < ?", (older_than,)
    )
    deleted = cursor.rowcount
    await cursor.close()
    return deleted
