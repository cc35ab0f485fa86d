"""Delivery receipts in PostgreSQL: dedupe, match, apply monotonically, or park until claimed.

Same behaviour as ``sqlite_receipts``. What SQLite got from having one writer, PostgreSQL gets
from locks held until the transaction ends:

* the event key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` (a webhook repeated to two
  replicas at once is applied by one of them);
* the matched recipient's row is locked (``FOR UPDATE``) before its new status is computed;
* parking versus claiming is serialised per account by an advisory lock: a receipt holds it
  exclusively from before it looks for its recipient, an outcome (which claims parked receipts)
  holds it shared. Without it, a receipt could park while another replica's outcome, committing
  at the same moment, looked for parked receipts — and each would miss the other. Both take it
  before locking any recipient's row, so the two never wait on each other in a cycle.

Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from bot.store.base import AppliedStatus, RecipientStatus
from bot.store.postgres_rows import Conn, utc
from bot.store.sqlite_receipts import FAILED_BY_RECEIPT
from bot.store.status import after_receipt

_BY_REF = (
    "SELECT r.* FROM recipients AS r JOIN requests AS q ON q.request_id = r.request_id"
    " WHERE q.account = $1 AND r.ref = $2"
)
_BY_MESSAGE_ID = (
    "SELECT r.* FROM recipients AS r JOIN requests AS q ON q.request_id = r.request_id"
    " WHERE q.account = $1 AND r.provider_message_id = $2"
    " ORDER BY q.created_at DESC, r.idx LIMIT 1"
)
_LOCK_KEY = "hashtext('chatops-bridge:receipts:' || COALESCE(current_schema(), '') || ':' || $1)"


async def lock_account(conn: Conn, account: str, *, shared: bool) -> None:
    """Park-versus-claim lock for one account, released when the transaction ends."""
    kind = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await conn.execute(f"SELECT {kind}({_LOCK_KEY})", account)


async def find(
    conn: Conn,
    account: str,
    provider_message_id: str | None,
    ref: str | None,
    *,
    lock: bool = False,
) -> asyncpg.Record | None:
    """Our ref is exact, so it is tried first; then the provider's message id.

    ``lock``: hold the recipient's row until the transaction ends (the caller will update it).
    """
    suffix = " FOR UPDATE OF r" if lock else ""
    if ref:
        row = await conn.fetchrow(_BY_REF + suffix, account, ref)
        if row is not None:
            return row
    if provider_message_id:
        return await conn.fetchrow(_BY_MESSAGE_ID + suffix, account, provider_message_id)
    return None


async def record(
    conn: Conn,
    *,
    account: str,
    provider_message_id: str | None,
    ref: str | None,
    status: RecipientStatus,
    reason: str | None,
    code: str | None,
    event_key: str,
    at: datetime | None,
    now: datetime,
) -> int | None:
    """Insert the raw event; None if this event key was seen before (a repeated webhook)."""
    receipt_id = await conn.fetchval(
        "INSERT INTO receipts (account, provider_message_id, ref, status, reason, code,"
        " event_key, event_at, received_at, matched)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false)"
        " ON CONFLICT (account, event_key) DO NOTHING RETURNING id",
        account,
        provider_message_id,
        ref,
        status.value,
        reason,
        code,
        event_key,
        utc(at) if at else None,
        now,
    )
    return int(receipt_id) if receipt_id is not None else None


async def apply(
    conn: Conn,
    recipient: asyncpg.Record,
    *,
    receipt_id: int,
    status: RecipientStatus,
    reason: str | None,
    code: str | None,
    event_key: str,
    now: datetime,
) -> AppliedStatus:
    """Move the (locked) recipient up, never down, and mark the receipt matched."""
    previous = RecipientStatus(recipient["status"])
    new = after_receipt(previous, status)
    if new is not previous:
        failed = new is RecipientStatus.FAILED
        await conn.execute(
            "UPDATE recipients SET status = $1, reason = $2, code = $3, http_status = NULL,"
            " updated_at = $4 WHERE request_id = $5 AND idx = $6",
            new.value,
            (reason or FAILED_BY_RECEIPT) if failed else None,
            code if failed else None,
            now,
            recipient["request_id"],
            recipient["idx"],
        )
    await conn.execute(
        "UPDATE receipts SET matched = true, request_id = $1, idx = $2 WHERE id = $3",
        recipient["request_id"],
        recipient["idx"],
        receipt_id,
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
    conn: Conn,
    account: str,
    provider_message_ids: Sequence[str],
    refs: Sequence[str],
    now: datetime,
) -> list[AppliedStatus]:
    """Apply the parked receipts for these message ids / refs, oldest event first.

    The caller holds ``lock_account(shared=True)``. Two claimers of one parked receipt (a stale
    duplicate outcome on another replica) are ordered by its row lock; the second no longer
    sees it as parked.
    """
    keys = list(dict.fromkeys(k for k in (*provider_message_ids, *refs) if k))
    if not keys:
        return []
    rows = await conn.fetch(
        "SELECT * FROM receipts WHERE NOT matched AND account = $1"
        " AND (provider_message_id = ANY($2::text[]) OR ref = ANY($2::text[]))"
        " ORDER BY id FOR UPDATE",
        account,
        keys,
    )
    ordered = sorted(rows, key=lambda r: (r["event_at"] or r["received_at"], int(r["id"])))
    applied: list[AppliedStatus] = []
    for receipt in ordered:
        recipient = await find(
            conn, account, receipt["provider_message_id"], receipt["ref"], lock=True
        )
        if recipient is None:
            continue
        applied.append(
            await apply(
                conn,
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


async def prune(conn: Conn, older_than: datetime) -> int:
    """Forget parked receipts received before ``older_than``: their send is not ours, or lost."""
    deleted = await conn.fetchval(
        "WITH gone AS (DELETE FROM receipts WHERE NOT matched AND received_at < $1 RETURNING 1)"
        " SELECT count(*) FROM gone",
        older_than,
    )
    return int(deleted or 0)
