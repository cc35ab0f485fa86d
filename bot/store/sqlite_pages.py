"""The page tables (and retention) on SQLite: ``PagesSql``'s primitives over this store's
connection, and ``RetentionSql``'s batches by ``rowid``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from bot.store.alerts_sql import AlertsSql
from bot.store.retention_sql import RetentionSql
from bot.store.sqlite_conn import SQLiteConnection
from bot.store.sqlite_sql import SQLiteSql


class SQLitePages(AlertsSql, RetentionSql, SQLiteConnection):
    async def _page_exec(self, sql: str, params: Sequence[object]) -> int:
        return await self._write(lambda db: SQLiteSql(db).execute(sql, params))

    async def _page_exec_serialized(self, sql: str, params: Sequence[object]) -> int:
        # Every write runs in the writer thread under BEGIN IMMEDIATE: one at a time, in this
        # process and any other on the file, and a grouped write sees the ones before it.
        return await self._page_exec(sql, params)

    async def _page_fetch(self, sql: str, params: Sequence[object]) -> list[Mapping[str, Any]]:
        return cast(list[Mapping[str, Any]], await self._read(sql, params))

    def _batch_of(self, table: str, where: str) -> str:
        return f"rowid IN (SELECT rowid FROM {table} WHERE {where} LIMIT ?)"
