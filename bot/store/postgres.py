"""The send record in PostgreSQL (``BRIDGE_DB=postgresql://user@host:port/db``).

The pool, migrations and transactions are in ``postgres_conn``; the operations, written once
for both stores, in ``store_sql`` (requests, sends, receipts) and ``pages_sql``/``retention_sql``
(pages, removing old records), over PostgreSQL's dialect in ``postgres_sql``. This class is the
``Store``, and behaves exactly as ``SQLiteStore`` does (the same test suite runs against both);
it is written for several writers at once, and adds what several *replicas* need: leases on
sends (``postgres_leases``) and a shared pace per account (``postgres_pacing``).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from bot.store import sends_sql as sends
from bot.store.base import raise_unmatched
from bot.store.canaries_sql import CanarySql
from bot.store.postgres_leases import PostgresLeaseBook
from bot.store.postgres_pages import PostgresPages
from bot.store.postgres_sql import POSTGRES, PostgresSql
from bot.store.store_sql import Body, SqlStore, T
from providers.base import Recipient

__all__ = ["PostgresStore"]


class PostgresStore(PostgresPages, CanarySql, SqlStore):
    """``bot.store.base.Store`` on PostgreSQL; also the dispatcher's ``Recorder``."""

    _dialect = POSTGRES
    _integrity_error = asyncpg.IntegrityConstraintViolationError

    def lease_book(self) -> PostgresLeaseBook:
        """Replicas own sends through leases in this database (``bot.send.ownership``)."""
        return PostgresLeaseBook(self)

    async def _tx(self, body: Body[T]) -> T:
        return await self._write(lambda conn: body(PostgresSql(conn)))

    async def _urgent_tx(self, body: Body[T]) -> T:
        return await self._write(lambda conn: body(PostgresSql(conn)), lane=True)

    async def _look(self, body: Body[T]) -> T:
        async with self._pool_or_raise().one() as conn:
            return await body(PostgresSql(conn))

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        """Written before the HTTP attempt: after a crash these recipients are 'unknown'."""
        unmatched = await self._write(
            lambda conn: sends.start_attempt(
                PostgresSql(conn), request_id, recipients, attempt, self._now()
            ),
            one_statement=all(r.ref for r in recipients),  # see PostgresSql.claim_attempt
            shielded=False,  # its call waits for it; a cancelled caller makes no call
        )
        raise_unmatched(request_id, unmatched)
