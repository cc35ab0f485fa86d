"""The ``Store`` operations on requests, recipients, outcomes and receipts, once for both stores.

Why here: each operation is the same on SQLite and PostgreSQL: which table group's SQL to run
(``requests_sql``, ``sends_sql``, ``receipts_sql``) and how its rows become records. What a
backend supplies is how a transaction runs (``_tx``, ``_look``: SQLite in one trip to its
database thread, PostgreSQL on a pooled connection), its clock's timestamps, its integrity
error, and the attempt claim, whose transaction differs (``SQLiteStore``, ``PostgresStore``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from bot.store import receipts_sql as receipts
from bot.store import requests_sql as requests
from bot.store import sends_sql as sends
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
    raise_unmatched,
)
from bot.store.records import recipient_record, request_record
from bot.store.sql import Dialect, Row, Sql
from bot.store.status import receipt_status
from providers.base import Outcome, Recipient

T = TypeVar("T")
Body = Callable[[Sql], Coroutine[Any, Any, T]]


class SqlStore:
    """``bot.store.base.Store``'s send-record operations over a backend's transactions."""

    _dialect: Dialect
    _integrity_error: type[Exception]  # a reused id or ref, a parent that is not there

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _tx(self, body: Body[T]) -> T:
        """Run ``body`` in a committed transaction (it completes if the caller is cancelled)."""
        raise NotImplementedError

    async def _look(self, body: Body[T]) -> T:
        """Run ``body`` as a read."""
        raise NotImplementedError

    def _now(self) -> object:
        raise NotImplementedError

    def _parked_cutoff(self) -> object:
        raise NotImplementedError

    def _request(self, row: Row) -> RequestRecord:
        return request_record(row, self._dialect.dt)

    def _requests(self, rows: Iterable[Row]) -> list[RequestRecord]:
        return [request_record(row, self._dialect.dt) for row in rows]

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

        async def body(db: Sql) -> tuple[list[RequestRecord], bool]:
            rows, created = await requests.create(db, entries, idempotency_key, self._now())
            return self._requests(rows), created

        try:
            return await self._tx(body)
        except self._integrity_error as exc:
            # A reused request id, two recipients with one ref, or an unknown parent request.
            ids = ", ".join(repr(r.request_id) for r, _ in entries)
            raise StoreError(f"request {ids} was not recorded: {exc}") from None

    async def get_request(self, request_id: str) -> RequestRecord | None:
        row = await self._look(lambda db: requests.get(db, request_id))
        return self._request(row) if row is not None else None

    async def group_requests(self, group_id: str) -> list[RequestRecord]:
        """A broadcast's requests in the order recorded (or the one request with that id)."""
        return self._requests(await self._look(lambda db: requests.group_rows(db, group_id)))

    async def set_state(self, request_id: str, state: RequestState) -> RequestState:
        """Move the request forward; done and cancelled are final. Returns the state now held."""
        return await self._tx(lambda db: requests.set_state(db, request_id, state, self._now()))

    async def transition(
        self, request_id: str, from_state: RequestState, to_state: RequestState
    ) -> bool:
        """Set ``to_state`` only if the request is in ``from_state``; True if it was."""
        return await self._tx(
            lambda db: requests.transition(db, request_id, from_state, to_state, self._now())
        )

    async def set_report(self, request_id: str, channel: str, ts: str) -> None:
        """Where the request's root message is in Slack, so progress edits and restarts find it."""
        await self._tx(lambda db: requests.set_report(db, request_id, channel, ts, self._now()))

    async def mark_reported(self, request_ids: Sequence[str]) -> None:
        """The final report of these requests is in Slack (or there is nowhere to report)."""
        await self._tx(lambda db: requests.mark_reported(db, request_ids, self._now()))

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None:
        """Add the provider's own count of people one accepted batch was queued for."""
        await self._tx(lambda db: requests.batch_accepted(db, request_id, recipients_count))

    async def unreported_requests(self) -> list[RequestRecord]:
        """Finished requests whose final report was never written (a crash in between)."""
        return self._requests(await self._look(requests.unreported))

    async def unfinished_requests(self) -> list[RequestRecord]:
        return self._requests(await self._look(requests.unfinished))

    async def recent_requests(self, user_id: str | None, limit: int = 10) -> list[RequestRecord]:
        """Newest first; ``user_id=None`` means everyone's."""
        return self._requests(await self._look(lambda db: requests.recent(db, user_id, limit)))

    # -- recipients --------------------------------------------------------------------------

    async def recipients(
        self, request_id: str, statuses: Iterable[RecipientStatus] | None = None
    ) -> list[RecipientRecord]:
        rows = await self._look(lambda db: requests.recipient_rows(db, request_id, statuses))
        return [recipient_record(row, self._dialect.dt) for row in rows]

    async def counts(self, request_id: str) -> dict[str, int]:
        """Recipients by status (every status present, zeros included) plus ``total``."""
        return await self._look(lambda db: requests.counts(db, request_id))

    async def find_recipient(
        self, account: str, provider_message_id: str | None = None, ref: str | None = None
    ) -> RecipientRecord | None:
        row = await self._look(lambda db: receipts.find(db, account, provider_message_id, ref))
        return recipient_record(row, self._dialect.dt) if row is not None else None

    # -- the dispatcher's Recorder (``attempt_started`` is each backend's) and recovery -----

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        """Written before an outcome is reported; receipts parked for it are applied with it."""
        unmatched = await self._tx(
            lambda db: sends.record_outcomes(db, request_id, outcomes, self._now())
        )
        raise_unmatched(request_id, unmatched)

    async def recover(self, request_id: str, reason: str = RESTARTED_REASON) -> RecoveryResult:
        """After a crash or a takeover: in flight -> unknown (``reason``: may have gone out), and
        what is still pending."""

        async def body(db: Sql) -> RecoveryResult:
            row, marked, pending = await sends.recover(db, request_id, self._now(), reason)
            return RecoveryResult(self._request(row), tuple(marked), tuple(pending))

        return await self._tx(body)

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

        async def body(db: Sql) -> AppliedStatus | None:
            now = self._now()
            await db.lock_account(account, shared=False)
            receipt_id = await receipts.record(
                db, account=account, provider_message_id=provider_message_id, ref=ref,
                status=status, reason=reason, code=code, event_key=event_key, at=at, now=now,
            )  # fmt: skip
            if receipt_id is None:
                return None
            recipient = await receipts.find(db, account, provider_message_id, ref, lock=True)
            if recipient is None:
                await receipts.prune(db, self._parked_cutoff())
                return None
            return await receipts.apply(
                db, recipient, receipt_id=receipt_id, status=status, reason=reason, code=code,
                event_key=event_key, now=now,
            )  # fmt: skip

        return await self._tx(body)

    async def claim_parked(
        self, account: str, provider_message_ids: Sequence[str] = (), refs: Sequence[str] = ()
    ) -> list[AppliedStatus]:
        """Apply parked receipts for these sends (``outcomes_recorded`` does this itself)."""

        async def body(db: Sql) -> list[AppliedStatus]:
            await db.lock_account(account, shared=True)
            return await receipts.claim(db, account, provider_message_ids, refs, self._now())

        return await self._tx(body)

    async def prune_parked(self) -> int:
        """Drop parked receipts older than ``parked_ttl``; returns how many."""
        return await self._tx(lambda db: receipts.prune(db, self._parked_cutoff()))
