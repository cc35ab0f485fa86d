"""The page tables (and retention) on PostgreSQL: ``PagesSql``'s primitives over this store's
pool, and ``RetentionSql``'s batches by ``ctid`` (an array of them: a TID scan, not a join)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from bot.store.alerts_sql import AlertsSql
from bot.store.postgres_conn import PostgresConnection
from bot.store.postgres_rows import Conn
from bot.store.postgres_sql import PostgresSql, numbered
from bot.store.retention_sql import RetentionSql

# Capped page starts take this lock, one per schema (as the receipts' and migrations' do).
_PAGE_START_LOCK = (
    "SELECT pg_advisory_xact_lock("
    "hashtext('chatops-bridge:page-start:' || COALESCE(current_schema(), '')))"
)


class PostgresPages(AlertsSql, RetentionSql, PostgresConnection):
    async def _page_exec(self, sql: str, params: Sequence[object]) -> int:
        return await self._write(
            lambda conn: PostgresSql(conn).execute(sql, params), one_statement=True
        )

    async def _page_exec_serialized(self, sql: str, params: Sequence[object]) -> int:
        async def body(conn: Conn) -> int:
            # One lock for every capped page start, held to the commit: under READ COMMITTED the
            # statement's snapshot is taken after the lock, so it sees every earlier start.
            await conn.execute(_PAGE_START_LOCK)
            return await PostgresSql(conn).execute(sql, params)

        return await self._write(body)

    async def _page_fetch(self, sql: str, params: Sequence[object]) -> list[Mapping[str, Any]]:
        return cast(list[Mapping[str, Any]], await self._read(numbered(sql), *params))

    def _batch_of(self, table: str, where: str) -> str:
        return f"ctid = ANY (ARRAY (SELECT ctid FROM {table} WHERE {where} LIMIT ?))"
