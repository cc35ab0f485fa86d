"""Attempts, outcomes and crash recovery, written once for both stores (the dispatcher's
``Recorder`` side).

Why the rows are matched (and, on PostgreSQL, locked) before a new status is computed from the
rules in ``bot.store.status``: a receipt applied meanwhile by another replica cannot be
overwritten. The one statement that differs in shape is a batch's attempt claim by ref
(``Sql.claim_attempt``): SQLite marks it in three statements, PostgreSQL in one fenced one.

Every function here runs inside the caller's write transaction and returns the recipients it
could not match, so the caller commits what did match before reporting the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.store import receipts_sql as receipts
from bot.store.base import RESTARTED_REASON, RecipientRecord, RecipientStatus, UnknownRequest
from bot.store.leases import Lease, LeaseLost
from bot.store.records import recipient_record
from bot.store.requests_sql import request_row
from bot.store.sql import Row, Sql, parts
from bot.store.status import after_attempt, after_outcome
from providers.base import Outcome, Recipient

_OUTCOME_COLUMNS = (
    ("idx", "int"), ("status", "text"), ("pmid", "text"), ("reason", "text"), ("code", "text"),
    ("http_status", "int"), ("attempts", "int"),
)  # fmt: skip
_OUTCOME_SLICE = 400  # 7 parameters a row (SQLite binds each)
# A request's first attempt moves it on (params: now, request id); ``Sql.claim_attempt`` too.
TO_SENDING = (
    "UPDATE requests SET state = 'sending', updated_at = ?"
    " WHERE request_id = ? AND state = 'accepted'"
)


async def start_attempt(
    db: Sql,
    request_id: str,
    recipients: Sequence[Recipient],
    attempt: int,
    now: object,
    lease: Lease | None = None,
) -> list[Recipient]:
    """Mark the recipients in flight, log the attempt, and move the request to 'sending'.

    A batch named by ref is claimed set-wise (``Sql.claim_attempt``); recipients without a ref
    (matched by address) take the row-by-row path. Under a ``lease`` that is no longer current
    nothing is written and LeaseLost is raised.
    """
    if any(not r.ref for r in recipients):
        if lease is not None:
            await fence(db, lease)
        return await _start_attempt_by_row(db, request_id, recipients, attempt, now)
    refs = list(dict.fromkeys(r.ref for r in recipients))
    found = await db.claim_attempt(request_id, refs, attempt, now, lease)
    if not found:
        await request_row(db, request_id)  # raises UnknownRequest if that is why
    return [r for r in recipients if r.ref not in found]


async def fence(db: Sql, lease: Lease) -> None:
    """Hold the lease's row (to the end of the caller's transaction), or raise LeaseLost if
    ``lease`` is no longer the group's current one."""
    held = await db.fetchrow(
        "SELECT 1 AS held FROM send_leases WHERE group_id = ? AND owner = ? AND epoch = ?"
        " FOR SHARE",
        (lease.group_id, lease.owner, lease.epoch),
    )
    if held is None:
        raise LeaseLost(lease)


async def _start_attempt_by_row(
    db: Sql, request_id: str, recipients: Sequence[Recipient], attempt: int, now: object
) -> list[Recipient]:
    """``start_attempt`` for recipients named by address only (each may match several rows)."""
    matches, unmatched = await match_recipients(db, request_id, recipients)
    if not matches:
        await request_row(db, request_id)  # raises UnknownRequest if that is why
    rows = sorted({int(row["idx"]): row for _, row in matches}.items())  # each once, idx order
    await db.executemany(
        f"UPDATE recipients SET status = ?, attempts = {db.dialect.greatest}(attempts, ?),"
        " updated_at = ? WHERE request_id = ? AND idx = ?",
        [
            (after_attempt(RecipientStatus(row["status"])).value, attempt, now, request_id, idx)
            for idx, row in rows
        ],
    )
    await db.executemany(
        "INSERT INTO attempts (request_id, idx, attempt, started_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(request_id, idx, attempt, now) for idx, _ in rows],
    )
    await db.execute(TO_SENDING, (now, request_id))
    return unmatched


async def match_recipients(
    db: Sql, request_id: str, recipients: Sequence[Recipient]
) -> tuple[list[tuple[Recipient, Row]], list[Recipient]]:
    """The stored rows for these recipients (by ref; by address when a caller left ref empty).

    Returns (matches, unmatched); each row also carries the request's ``account``. A ref is
    unique; an address without a ref matches every row of the request with that address. On
    PostgreSQL the rows are locked to the end of the transaction, in (request, idx) order as
    every writer locks them, so two writers never deadlock.
    """
    d = db.dialect
    lock = d.locked("r.request_id, r.idx", of="r")
    select = (
        "SELECT r.*, q.account AS account FROM recipients AS r"
        " JOIN requests AS q ON q.request_id = r.request_id WHERE "
    )
    refs = list({r.ref for r in recipients if r.ref})
    addresses = list({r.address for r in recipients if not r.ref})
    rows: list[Row] = []
    for part in parts(refs, d.list_size):
        where, params = d.by_ref("r", request_id, part)
        found = await db.fetch(select + where + lock, params)
        rows += [row for row in found if row["request_id"] == request_id]
    for part in parts(addresses, d.list_size):
        # The index on (request_id, address) is the right one here.
        where = f"r.request_id = ? AND {d.in_list('r.address', part)}"
        rows += await db.fetch(select + where + lock, (request_id, *d.list_params(part)))
    wanted_refs, wanted_addresses = set(refs), set(addresses)
    by_ref: dict[str, Row] = {}
    by_address: dict[str, list[Row]] = {}
    for row in rows:
        if row["ref"] in wanted_refs:
            by_ref[row["ref"]] = row
        if row["address"] in wanted_addresses:
            by_address.setdefault(row["address"], []).append(row)
    matches: list[tuple[Recipient, Row]] = []
    unmatched: list[Recipient] = []
    for recipient in recipients:
        matched = [by_ref[recipient.ref]] if recipient.ref in by_ref else []
        if not recipient.ref:
            matched = by_address.get(recipient.address, [])
        if not matched:
            unmatched.append(recipient)
        matches.extend((recipient, row) for row in matched)
    return matches, unmatched


async def record_outcomes(
    db: Sql, request_id: str, outcomes: Sequence[Outcome], now: object
) -> list[Recipient]:
    """Write each outcome (never over a receipt's verdict), then apply receipts parked for it."""
    d = db.dialect
    account: str | None = None
    if d.concurrent_writers:
        # The account's receipt lock before any row lock, as a receipt takes it: the same
        # order everywhere, so no deadlock.
        row = await db.fetchrow("SELECT account FROM requests WHERE request_id = ?", (request_id,))
        if row is None:
            raise UnknownRequest(request_id)
        account = row["account"]
        await db.lock_account(row["account"], shared=True)
    by_recipient = {o.recipient: o for o in outcomes}
    matches, unmatched = await match_recipients(db, request_id, list(by_recipient))
    if not matches:
        await request_row(db, request_id)  # raises UnknownRequest if that is why
        return unmatched
    account = account or matches[0][1]["account"]
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
    rows = list({u[0]: u for u in updates}.values())  # one per idx: the last wins
    for part in parts(rows, d.list_size and _OUTCOME_SLICE):
        await db.execute(
            f"WITH v (idx, status, pmid, reason, code, http_status, attempts) AS"
            f" ({d.rows(_OUTCOME_COLUMNS, len(part))})"
            " UPDATE recipients SET status = v.status,"
            " provider_message_id = COALESCE(v.pmid, recipients.provider_message_id),"
            " reason = v.reason, code = v.code, http_status = v.http_status,"
            f" attempts = {d.greatest}(recipients.attempts, v.attempts), updated_at = ?"
            " FROM v WHERE recipients.request_id = ? AND recipients.idx = v.idx",
            (*d.rows_params(part), now, request_id),
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
    db: Sql, request_id: str, now: object, reason: str = RESTARTED_REASON
) -> tuple[Row, list[RecipientRecord], list[RecipientRecord]]:
    """In flight at a crash -> unknown (never re-sent); returns (request, those, still pending)."""
    d = db.dialect
    await request_row(db, request_id)
    in_flight = await db.fetch(
        "SELECT * FROM recipients WHERE request_id = ? AND status = 'in_flight'"
        f" ORDER BY idx{d.for_update()}",
        (request_id,),
    )
    await db.execute(
        "UPDATE recipients SET status = 'unknown', reason = ?, code = NULL, http_status = NULL,"
        " updated_at = ? WHERE request_id = ? AND status = 'in_flight'",
        (reason, now, request_id),
    )
    marked = [
        replace(
            recipient_record(row, d.dt),
            status=RecipientStatus.UNKNOWN,
            reason=reason,
            code=None,
            http_status=None,
            updated_at=d.dt(now),
        )
        for row in in_flight
    ]
    pending = await db.fetch(
        "SELECT * FROM recipients WHERE request_id = ? AND status = 'pending' ORDER BY idx",
        (request_id,),
    )
    request = await request_row(db, request_id)
    return request, marked, [recipient_record(row, d.dt) for row in pending]
