"""Delivery receipts, written once for both stores: dedupe, match, apply monotonically, or park.

Why parking: a provider can post a receipt before our send's response (with its message id) is
recorded. Such a receipt waits in ``receipts`` unmatched and is applied by ``claim`` in the same
transaction that records the outcome; one never matched is pruned after a TTL.

What SQLite gets from having one writer, PostgreSQL gets from locks held to the end of the
transaction (``Sql.lock_account``, ``Dialect.for_update``):

* the event key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` (a webhook repeated to two
  replicas at once is applied by one of them);
* the matched recipient's row is locked before its new status is computed;
* parking versus claiming is serialized per account: a receipt holds the account's lock
  exclusively from before it looks for its recipient, an outcome (which claims parked receipts)
  holds it shared. Without it, a receipt could park while another replica's outcome, committing
  at the same moment, looked for parked receipts, and each would miss the other. Both take it
  before locking any recipient's row, so the two never wait on each other in a cycle.

Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.store.base import AppliedStatus, RecipientStatus
from bot.store.sql import Row, Sql, parts
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
_CLAIM_SLICE = 250  # each key is bound twice (SQLite binds one parameter a value)


async def find(
    db: Sql, account: str, provider_message_id: str | None, ref: str | None, *, lock: bool = False
) -> Row | None:
    """Our ref is exact, so it is tried first; then the provider's message id.

    ``lock``: hold the recipient's row until the transaction ends (the caller will update it).
    """
    suffix = db.dialect.for_update("r") if lock else ""
    if ref:
        row = await db.fetchrow(_BY_REF + suffix, (account, ref))
        if row is not None:
            return row
    if provider_message_id:
        return await db.fetchrow(_BY_MESSAGE_ID + suffix, (account, provider_message_id))
    return None


async def record(
    db: Sql,
    *,
    account: str,
    provider_message_id: str | None,
    ref: str | None,
    status: RecipientStatus,
    reason: str | None,
    code: str | None,
    event_key: str,
    at: datetime | None,
    now: object,
) -> int | None:
    """Insert the raw event; None if this event key was seen before (a repeated webhook)."""
    return await db.insert_id(
        "INSERT INTO receipts (account, provider_message_id, ref, status, reason, code,"
        " event_key, event_at, received_at, matched) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)"
        " ON CONFLICT (account, event_key) DO NOTHING",
        (
            account,
            provider_message_id,
            ref,
            status.value,
            reason,
            code,
            event_key,
            db.dialect.ts(at) if at else None,
            now,
        ),
    )


async def apply(
    db: Sql,
    recipient: Row,
    *,
    receipt_id: int,
    status: RecipientStatus,
    reason: str | None,
    code: str | None,
    event_key: str,
    now: object,
) -> AppliedStatus:
    """Move the (locked) recipient up, never down, and mark the receipt matched."""
    previous = RecipientStatus(recipient["status"])
    new = after_receipt(previous, status)
    if new is not previous:
        failed = new is RecipientStatus.FAILED
        await db.execute(
            "UPDATE recipients SET status = ?, reason = ?, code = ?, http_status = NULL,"
            " updated_at = ? WHERE request_id = ? AND idx = ?",
            (
                new.value,
                (reason or FAILED_BY_RECEIPT) if failed else None,
                code if failed else None,
                now,
                recipient["request_id"],
                recipient["idx"],
            ),
        )
    await db.execute(
        "UPDATE receipts SET matched = TRUE, request_id = ?, idx = ? WHERE id = ?",
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
    db: Sql, account: str, provider_message_ids: Sequence[str], refs: Sequence[str], now: object
) -> list[AppliedStatus]:
    """Apply the parked receipts for these message ids / refs, oldest event first.

    On PostgreSQL the caller holds ``lock_account(shared=True)``. Two claimers of one parked
    receipt (a stale duplicate outcome on another replica) are ordered by its row lock; the
    second no longer sees it as parked.
    """
    d = db.dialect
    parked: dict[int, Row] = {}
    keys = list(dict.fromkeys(k for k in (*provider_message_ids, *refs) if k))
    # Both columns against one list. A receipt found through the "wrong" column is still
    # matched below by its own message id / ref, so this only widens the net.
    for part in parts(keys, d.list_size and _CLAIM_SLICE):
        rows = await db.fetch(
            f"SELECT * FROM receipts WHERE {d.unmatched} AND account = ?"
            f" AND ({d.in_list('provider_message_id', part)} OR {d.in_list('ref', part)})"
            + d.locked("id"),
            (account, *d.list_params(part), *d.list_params(part)),
        )
        parked.update((int(row["id"]), row) for row in rows)
    ordered = sorted(
        parked.values(), key=lambda r: (r["event_at"] or r["received_at"], int(r["id"]))
    )
    applied: list[AppliedStatus] = []
    for receipt in ordered:
        recipient = await find(
            db, account, receipt["provider_message_id"], receipt["ref"], lock=True
        )
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


async def prune(db: Sql, older_than: object) -> int:
    """Forget parked receipts received before ``older_than``: their send is not ours, or lost."""
    return await db.execute(
        f"DELETE FROM receipts WHERE {db.dialect.unmatched} AND received_at < ?", (older_than,)
    )
