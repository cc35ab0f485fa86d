"""The send record in one SQLite file (``BRIDGE_DB``, default ``var/bridge.db``).

The connection, pragmas and transactions are in ``sqlite_conn``; the SQL for attempts, outcomes and
recovery in ``sqlite_sends``; for receipts in ``sqlite_receipts``. This class is the ``Store``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.store import sqlite_receipts as receipts
from bot.store import sqlite_requests as requests
from bot.store import sqlite_sends as sends
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
from bot.store.sqlite_conn import DEFAULT_PATH, default_path
from bot.store.sqlite_pages import SQLitePages
from bot.store.sqlite_rows import recipient_record, request_record
from bot.store.sqlite_shared import Shared
from bot.store.sqlite_thread import SyncDB
from bot.store.status import receipt_status
from providers.base import Outcome, Recipient

__all__ = ["DEFAULT_PATH", "SQLiteStore", "default_path"]


class SQLiteStore(SQLitePages, CanarySql):
    """``bot.store.base.Store`` on SQLite; also the dispatcher's ``Recorder``."""

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
        """Record several requests (a broadcast) in one transaction under one key.

        If the key was used before, nothing is written and that group is returned with False.
        """
        requests.check_entries(entries)

        async def body(db: SyncDB) -> tuple[list[RequestRecord], bool]:
            rows, created = await requests.create(db, entries, idempotency_key, self._now())
            return [request_record(row) for row in rows], created

        try:
            return await self._write(body)
        except sqlite3.IntegrityError as exc:
            # A reused request id, two recipients with one ref, or an unknown parent request.
            ids = ", ".join(repr(r.request_id) for r, _ in entries)
            raise StoreError(f"request {ids} was not recorded: {exc}") from None

    async def get_request(self, request_id: str) -> RequestRecord | None:
        rows = await self._read("SELECT * FROM requests WHERE request_id = ?", (request_id,))
        return request_record(rows[0]) if rows else None

    async def group_requests(self, group_id: str) -> list[RequestRecord]:
        """A broadcast's requests in the order recorded (or the one request with that id)."""
        rows = await self._run(lambda db: requests.group_rows(db, group_id))
        return [request_record(row) for row in rows]

    async def set_state(self, request_id: str, state: RequestState) -> RequestState:
        """Move the request forward; done and cancelled are final. Returns the state now held."""

        async def body(db: SyncDB) -> RequestState:
            return await requests.set_state(db, request_id, state, self._now())

        return await self._write(body)

    async def transition(
        self, request_id: str, from_state: RequestState, to_state: RequestState
    ) -> bool:
        """Set ``to_state`` only if the request is in ``from_state``; True if it was."""

        async def body(db: SyncDB) -> bool:
            return await requests.transition(db, request_id, from_state, to_state, self._now())

        return await self._write(body)

    async def set_report(self, request_id: str, channel: str, ts: str) -> None:
        """Where the request's root message is in Slack, so progress edits and restarts find it."""

        async def body(db: SyncDB) -> None:
            cursor = await db.execute(
                "UPDATE requests SET report_channel = ?, report_ts = ?, updated_at = ?"
                " WHERE request_id = ?",
                (channel, ts, self._now(), request_id),
            )
            if cursor.rowcount == 0:
                raise UnknownRequest(request_id)

        await self._write(body)

    async def mark_reported(self, request_ids: Sequence[str]) -> None:
        """The final report of these requests is in Slack (or there is nowhere to report)."""

        async def body(db: SyncDB) -> None:
            await db.executemany(
                "UPDATE requests SET reported_at = ? WHERE request_id = ?",
                [(self._now(), request_id) for request_id in request_ids],
            )

        await self._write(body)

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None:
        """Add the provider's own count of people one accepted batch was queued for."""

        async def body(db: SyncDB) -> None:
            await db.execute(
                "UPDATE requests SET provider_count = COALESCE(provider_count, 0) + ?"
                " WHERE request_id = ?",
                (recipients_count, request_id),
            )

        await self._write(body)

    async def unreported_requests(self) -> list[RequestRecord]:
        """Finished requests whose final report was never written (a crash in between)."""
        rows = await self._read(
            "SELECT * FROM requests WHERE state = 'done' AND reported_at IS NULL"
            " ORDER BY created_at, rowid"
        )
        return [request_record(row) for row in rows]

    async def unfinished_requests(self) -> list[RequestRecord]:
        rows = await self._read(
            "SELECT * FROM requests WHERE state IN ('held', 'accepted', 'sending')"
            " ORDER BY created_at, rowid"
        )
        return [request_record(row) for row in rows]

    async def recent_requests(self, user_id: str | None, limit: int = 10) -> list[RequestRecord]:
        """Newest first; ``user_id=None`` means everyone's."""
        where, params = ("WHERE user_id = ?", [user_id]) if user_id is not None else ("", [])
        rows = await self._read(
            f"SELECT * FROM requests {where} ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        return [request_record(row) for row in rows]

    # -- recipients --------------------------------------------------------------------------

    async def recipients(
        self, request_id: str, statuses: Iterable[RecipientStatus] | None = None
    ) -> list[RecipientRecord]:
        wanted = [RecipientStatus(s).value for s in statuses] if statuses is not None else None
        sql, params = "SELECT * FROM recipients WHERE request_id = ?", [request_id]
        if wanted is not None:
            if not wanted:
                return []
            sql += f" AND status IN ({', '.join('?' * len(wanted))})"
            params += wanted
        return [recipient_record(row) for row in await self._read(sql + " ORDER BY idx", params)]

    async def counts(self, request_id: str) -> dict[str, int]:
        """Recipients by status (every status present, zeros included) plus ``total``."""
        rows = await self._read(
            "SELECT q.total AS total, r.status AS status, COUNT(r.idx) AS n FROM requests AS q"
            " LEFT JOIN recipients AS r ON r.request_id = q.request_id"
            " WHERE q.request_id = ? GROUP BY r.status",
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

    async def find_recipient(
        self, account: str, provider_message_id: str | None = None, ref: str | None = None
    ) -> RecipientRecord | None:
        row = await self._run(lambda db: receipts.find(db, account, provider_message_id, ref))
        return recipient_record(row) if row is not None else None

    # -- the dispatcher's Recorder and crash recovery -------------------------------------

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        """Written before the HTTP attempt: after a crash these recipients are 'unknown'."""

        async def body(db: SyncDB, merged: Sequence[Recipient]) -> list[Recipient]:
            return await sends.start_attempt(db, request_id, merged, attempt, self._now())

        # Claims of one send's attempt going out together share their statements.
        write = Shared(("attempt", request_id, attempt), recipients, body)
        raise_unmatched(request_id, await self._write_shared(write))

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        """Written before an outcome is reported; receipts parked for it are applied with it."""

        async def body(db: SyncDB) -> list[Recipient]:
            return await sends.record_outcomes(db, request_id, outcomes, self._now())

        raise_unmatched(request_id, await self._write(body))

    async def recover(self, request_id: str, reason: str = RESTARTED_REASON) -> RecoveryResult:
        """After a crash or a takeover: in flight -> unknown (``reason``: may have gone out), and
        what is still pending."""

        async def body(db: SyncDB) -> RecoveryResult:
            row, marked, pending = await sends.recover(db, request_id, self._now(), reason)
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

        async def body(db: SyncDB) -> AppliedStatus | None:
            now = self._now()
            receipt_id = await receipts.record(
                db, account=account, provider_message_id=provider_message_id, ref=ref,
                status=status, reason=reason, code=code, event_key=event_key, at=at, now=now,
            )  # fmt: skip
            if receipt_id is None:
                return None
            recipient = await receipts.find(db, account, provider_message_id, ref)
            if recipient is None:
                await receipts.prune(db, self._parked_cutoff())
                return None
            return await receipts.apply(
                db, recipient, receipt_id=receipt_id, status=status, reason=reason, code=code,
                event_key=event_key, now=now,
            )  # fmt: skip

        return await self._write(body)

    async def claim_parked(
        self, account: str, provider_message_ids: Sequence[str] = (), refs: Sequence[str] = ()
    ) -> list[AppliedStatus]:
        """Apply parked receipts for these sends (``outcomes_recorded`` does this itself)."""

        async def body(db: SyncDB) -> list[AppliedStatus]:
            return await receipts.claim(db, account, provider_message_ids, refs, self._now())

        return await self._write(body)

    async def prune_parked(self) -> int:
        """Drop parked receipts older than ``parked_ttl``; returns how many."""

        async def body(db: SyncDB) -> int:
            return await receipts.prune(db, self._parked_cutoff())

        return await self._write(body)
