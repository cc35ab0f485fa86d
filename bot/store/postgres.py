"""The send record in PostgreSQL (``BRIDGE_DB=postgresql://user@host:port/db``).

The pool, migrations and transactions are in ``postgres_conn``; the SQL for requests in
``postgres_requests``, for attempts, outcomes and recovery in ``postgres_sends``, for receipts in
``postgres_receipts``. This class is the ``Store``, and behaves exactly as ``SQLiteStore`` does
(the same test suite runs against both); it is written for several writers at once, but leases
and a shared rate limit — what several *replicas* also need — are not here yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg

from bot.store import postgres_receipts as receipts
from bot.store import postgres_requests as requests
from bot.store import postgres_sends as sends
from bot.store.base import (
    RESTARTED_REASON,
    AppliedStatus,
    NewRequest,
    RecipientRecord,
    RecipientStatus,
    RecoveryResult,
    RequestRecord,
    RequestState,
    StoreError,
    UnknownRequest,
    raise_unmatched,
)
from bot.store.canaries_sql import CanarySql
from bot.store.postgres_pages import PostgresPages
from bot.store.postgres_rows import Conn, recipient_record, request_record, utc
from bot.store.sqlite_requests import check_entries
from bot.store.status import receipt_status
from providers.base import Outcome, Recipient

__all__ = ["PostgresStore"]

_UNFINISHED = "state IN ('held', 'accepted', 'sending')"


class PostgresStore(PostgresPages, CanarySql):
    """``bot.store.base.Store`` on PostgreSQL; also the dispatcher's ``Recorder``."""

    # -- requests ----------------------------------------------------------------------------

    async def create_request(
        self, record: NewRequest, recipients: Sequence[Recipient], idempotency_key: str | None
    ) -> tuple[RequestRecord, bool]:
        """Record the request and every recipient as pending, or return the one with this key."""
        records, created = await self.create_requests([(record, recipients)], idempotency_key)
        return records[0], created

    async def create_requests(
        self,
        entries: Sequence[tuple[NewRequest, Sequence[Recipient]]],
        idempotency_key: str | None,
    ) -> tuple[list[RequestRecord], bool]:
        """Record several requests (a broadcast) in one transaction under one key."""
        check_entries(entries)

        async def body(conn: Conn) -> tuple[list[RequestRecord], bool]:
            rows, created = await requests.create(conn, entries, idempotency_key, self._now())
            return [request_record(row) for row in rows], created

        try:
            return await self._write(body)
        except asyncpg.IntegrityConstraintViolationError as exc:
            # A reused request id, two recipients with one ref, or an unknown parent request.
            ids = ", ".join(repr(r.request_id) for r, _ in entries)
            raise StoreError(f"request {ids} was not recorded: {exc}") from None

    async def get_request(self, request_id: str) -> RequestRecord | None:
        rows = await self._read("SELECT * FROM requests WHERE request_id = $1", request_id)
        return request_record(rows[0]) if rows else None

    async def group_requests(self, group_id: str) -> list[RequestRecord]:
        """A broadcast's requests in the order recorded (or the one request with that id)."""
        async with self._pool_or_raise().one() as conn:
            rows = await requests.group_rows(conn, group_id)
        return [request_record(row) for row in rows]

    async def set_state(self, request_id: str, state: RequestState) -> RequestState:
        """Move the request forward; done and cancelled are final. Returns the state now held."""
        return await self._write(
            lambda conn: requests.set_state(conn, request_id, state, self._now())
        )

    async def transition(
        self, request_id: str, from_state: RequestState, to_state: RequestState
    ) -> bool:
        """Set ``to_state`` only if the request is in ``from_state``; True if it was."""
        return await self._write(
            lambda conn: requests.transition(conn, request_id, from_state, to_state, self._now())
        )

    async def set_report(self, request_id: str, channel: str, ts: str) -> None:
        """Where the request's root message is in Slack, so progress edits and restarts find it."""

        async def body(conn: Conn) -> None:
            found = await conn.fetchval(
                "UPDATE requests SET report_channel = $1, report_ts = $2, updated_at = $3"
                " WHERE request_id = $4 RETURNING true",
                channel, ts, self._now(), request_id,
            )  # fmt: skip
            if not found:
                raise UnknownRequest(request_id)

        await self._write(body)

    async def mark_reported(self, request_ids: Sequence[str]) -> None:
        """The final report of these requests is in Slack (or there is nowhere to report)."""

        async def body(conn: Conn) -> None:
            await conn.execute(
                "UPDATE requests SET reported_at = $1 WHERE request_id = ANY($2::text[])",
                self._now(),
                list(request_ids),
            )

        await self._write(body)

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None:
        """Add the provider's own count of people one accepted batch was queued for."""

        async def body(conn: Conn) -> None:
            await conn.execute(
                "UPDATE requests SET provider_count = COALESCE(provider_count, 0) + $1"
                " WHERE request_id = $2",
                recipients_count,
                request_id,
            )

        await self._write(body)

    async def unreported_requests(self) -> list[RequestRecord]:
        """Finished requests whose final report was never written (a crash in between)."""
        rows = await self._read(
            "SELECT * FROM requests WHERE state = 'done' AND reported_at IS NULL"
            " ORDER BY created_at, seq"
        )
        return [request_record(row) for row in rows]

    async def unfinished_requests(self) -> list[RequestRecord]:
        rows = await self._read(
            f"SELECT * FROM requests WHERE {_UNFINISHED} ORDER BY created_at, seq"
        )
        return [request_record(row) for row in rows]

    async def recent_requests(self, user_id: str | None, limit: int = 10) -> list[RequestRecord]:
        """Newest first; ``user_id=None`` means everyone's."""
        rows = await self._read(
            "SELECT * FROM requests WHERE ($1::text IS NULL OR user_id = $1::text)"
            " ORDER BY created_at DESC, seq DESC LIMIT $2",
            user_id,
            max(0, limit),
        )
        return [request_record(row) for row in rows]

    # -- recipients --------------------------------------------------------------------------

    async def recipients(
        self, request_id: str, statuses: Iterable[RecipientStatus] | None = None
    ) -> list[RecipientRecord]:
        if statuses is None:
            rows = await self._read(
                "SELECT * FROM recipients WHERE request_id = $1 ORDER BY idx", request_id
            )
        else:
            wanted = [RecipientStatus(s).value for s in statuses]
            if not wanted:
                return []
            rows = await self._read(
                "SELECT * FROM recipients WHERE request_id = $1 AND status = ANY($2::text[])"
                " ORDER BY idx",
                request_id,
                wanted,
            )
        return [recipient_record(row) for row in rows]

    async def counts(self, request_id: str) -> dict[str, int]:
        """Recipients by status (every status present, zeros included) plus ``total``."""
        rows = await self._read(
            "SELECT q.total AS total, r.status AS status, COUNT(r.idx) AS n FROM requests AS q"
            " LEFT JOIN recipients AS r ON r.request_id = q.request_id"
            " WHERE q.request_id = $1 GROUP BY q.total, r.status",
            request_id,
        )
        if not rows:
            raise UnknownRequest(request_id)
        result = {status.value: 0 for status in RecipientStatus}
        for row in rows:
            if row["status"] is not None:
                result[row["status"]] = int(row["n"])
        result["total"] = int(rows[0]["total"])
        return result

    async def find_recipient(
        self, account: str, provider_message_id: str | None = None, ref: str | None = None
    ) -> RecipientRecord | None:
        async with self._pool_or_raise().one() as conn:
            row = await receipts.find(conn, account, provider_message_id, ref)
        return recipient_record(row) if row is not None else None

    # -- the dispatcher's Recorder and crash recovery -------------------------------------

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        """Written before the HTTP attempt: after a crash these recipients are 'unknown'."""
        unmatched = await self._write(
            lambda conn: sends.start_attempt(conn, request_id, recipients, attempt, self._now()),
            one_statement=all(r.ref for r in recipients),  # see sends.start_attempt
            shielded=False,  # its call waits for it; a cancelled caller makes no call
        )
        raise_unmatched(request_id, unmatched)

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        """Written before an outcome is reported; receipts parked for it are applied with it."""
        unmatched = await self._write(
            lambda conn: sends.record_outcomes(conn, request_id, outcomes, self._now())
        )
        raise_unmatched(request_id, unmatched)

    async def recover(self, request_id: str, reason: str = RESTARTED_REASON) -> RecoveryResult:
        """After a crash or a takeover: in flight -> unknown (``reason``: may have gone out), and
        what is still pending."""

        async def body(conn: Conn) -> RecoveryResult:
            row, marked, pending = await sends.recover(conn, request_id, self._now(), reason)
            return RecoveryResult(request_record(row), tuple(marked), tuple(pending))

        return await self._write(body)

    # -- receipts ----------------------------------------------------------------------------

    async def apply_status(
        self,
        account: str,
        *,
        status: RecipientStatus,
        event_key: str,
        provider_message_id: str | None = None,
        ref: str | None = None,
        at: datetime | None = None,
        reason: str | None = None,
        code: str | None = None,
    ) -> AppliedStatus | None:
        """Apply one receipt. None: a repeated event, or parked until its send is recorded."""
        status = receipt_status(status, provider_message_id, ref)

        async def body(conn: Conn) -> AppliedStatus | None:
            now = self._now()
            await receipts.lock_account(conn, account, shared=False)
            receipt_id = await receipts.record(
                conn, account=account, provider_message_id=provider_message_id, ref=ref,
                status=status, reason=reason, code=code, event_key=event_key,
                at=utc(at) if at else None, now=now,
            )  # fmt: skip
            if receipt_id is None:
                return None
            recipient = await receipts.find(conn, account, provider_message_id, ref, lock=True)
            if recipient is None:
                await receipts.prune(conn, self._parked_cutoff())
                return None
            return await receipts.apply(
                conn, recipient, receipt_id=receipt_id, status=status, reason=reason, code=code,
                event_key=event_key, now=now,
            )  # fmt: skip

        return await self._write(body)

    async def claim_parked(
        self, account: str, provider_message_ids: Sequence[str] = (), refs: Sequence[str] = ()
    ) -> list[AppliedStatus]:
        """Apply parked receipts for these sends (``outcomes_recorded`` does this itself)."""

        async def body(conn: Conn) -> list[AppliedStatus]:
            await receipts.lock_account(conn, account, shared=True)
            return await receipts.claim(conn, account, provider_message_ids, refs, self._now())

        return await self._write(body)

    async def prune_parked(self) -> int:
        """Drop parked receipts older than ``parked_ttl``; returns how many."""
        return await self._write(lambda conn: receipts.prune(conn, self._parked_cutoff()))
