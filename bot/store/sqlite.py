"""The send record in one SQLite file (``BRIDGE_DB``, default ``var/bridge.db``).

The connection, pragmas and transactions are in ``sqlite_conn``; the operations, written once
for both stores, in ``store_sql`` (requests, sends, receipts) and ``pages_sql``/``retention_sql``
(pages, removing old records), over SQLite's dialect in ``sqlite_sql``. This class is the
``Store``: it says how those run here, and claims attempts its own way (merged, see below).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from bot.store import sends_sql as sends
from bot.store.base import raise_unmatched
from bot.store.canaries_sql import CanarySql
from bot.store.sqlite_conn import DEFAULT_PATH, default_path
from bot.store.sqlite_pages import SQLitePages
from bot.store.sqlite_shared import Shared
from bot.store.sqlite_sql import SQLITE, SQLiteSql
from bot.store.sqlite_thread import SyncDB
from bot.store.store_sql import Body, SqlStore, T
from providers.base import Recipient

__all__ = ["DEFAULT_PATH", "SQLiteStore", "default_path"]


class SQLiteStore(SQLitePages, CanarySql, SqlStore):
    """``bot.store.base.Store`` on SQLite; also the dispatcher's ``Recorder``."""

    _dialect = SQLITE
    _integrity_error = sqlite3.IntegrityError

    async def _tx(self, body: Body[T]) -> T:
        return await self._write(lambda db: body(SQLiteSql(db)))

    async def _urgent_tx(self, body: Body[T]) -> T:
        return await self._write(lambda db: body(SQLiteSql(db)), urgent=True)

    async def _look(self, body: Body[T]) -> T:
        return await self._run(lambda db: body(SQLiteSql(db)))

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        """Written before the HTTP attempt: after a crash these recipients are 'unknown'."""

        async def body(db: SyncDB, merged: Sequence[Recipient]) -> list[Recipient]:
            return await sends.start_attempt(
                SQLiteSql(db), request_id, merged, attempt, self._now()
            )

        # Claims of one send's attempt going out together share their statements.
        write = Shared(("attempt", request_id, attempt), recipients, body)
        raise_unmatched(request_id, await self._write_shared(write))
