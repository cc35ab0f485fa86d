"""The send-record tests run once per backend: the ``backend`` and ``store`` fixtures.

Why one parametrized suite: every promise of the ``Store`` protocol must hold on SQLite *and* on
PostgreSQL; two copies of the tests would drift apart. A test asks for ``store`` (opened, fresh)
or ``backend`` (to open stores on the same database again, and to look at its tables).

PostgreSQL tests use ``$BRIDGE_TEST_POSTGRES_URL``. Unset: they are skipped (one line at the end
of the run says how to run them). Set but unreachable: they fail — CI must never skip them.
Each test gets its own schema (named in the URL's ``search_path``), dropped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store import SQLiteStore, Store, postgres_schema
from bot.store import migrations as sqlite_schema
from bot.store.migrations import Migration
from bot.store.postgres import PostgresStore

POSTGRES_ENV = "BRIDGE_TEST_POSTGRES_URL"
EXAMPLE_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOW_TO_RUN = f"PostgreSQL tests skipped: set {POSTGRES_ENV}={EXAMPLE_URL} to run them"
BACKENDS = ["sqlite", "postgres"]


class Backend:
    """One test's database, whichever the kind; opens stores on it and reads its tables."""

    kind: str
    target: str  # what BRIDGE_DB would say
    migrations: tuple[Migration, ...]
    sql_error: type[Exception]  # what a broken migration statement raises

    def store(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        parked_ttl: timedelta | None = None,
        migrations: Sequence[Migration] | None = None,
    ) -> SQLiteStore | PostgresStore:
        kw: dict[str, Any] = {}
        if clock is not None:
            kw["clock"] = clock
        if parked_ttl is not None:
            kw["parked_ttl"] = parked_ttl
        if migrations is not None:
            kw["migrations"] = migrations
        return self._make(kw)

    def _make(self, kw: dict[str, Any]) -> SQLiteStore | PostgresStore:
        raise NotImplementedError

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def version(self) -> int:
        raise NotImplementedError

    async def set_version(self, version: int) -> None:
        raise NotImplementedError

    async def tables(self) -> set[str]:
        raise NotImplementedError

    async def columns(self, table: str) -> set[str]:
        raise NotImplementedError

    async def scalar(self, sql: str) -> Any:
        return (await self.fetch(sql))[0][0]


class SQLiteBackend(Backend):
    kind = "sqlite"
    migrations = sqlite_schema.MIGRATIONS
    sql_error = sqlite3.OperationalError

    def __init__(self, path: Path) -> None:
        self.path = path
        self.target = str(path)

    def _make(self, kw: dict[str, Any]) -> SQLiteStore:
        return SQLiteStore(self.path, **kw)

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.path)) as db, db:
            return [tuple(row) for row in db.execute(sql).fetchall()]

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self._fetch, sql)

    async def version(self) -> int:
        return int(await self.scalar("PRAGMA user_version"))

    async def set_version(self, version: int) -> None:
        await self.fetch(f"PRAGMA user_version = {int(version)}")

    async def tables(self) -> set[str]:
        rows = await self.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}

    async def columns(self, table: str) -> set[str]:
        return {row[1] for row in await self.fetch(f"PRAGMA table_info({table})")}


class PostgresBackend(Backend):
    kind = "postgresql"
    migrations = postgres_schema.MIGRATIONS
    sql_error = asyncpg.PostgresSyntaxError

    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema
        self.target = f"{url}{'&' if '?' in url else '?'}search_path={schema}"

    def _make(self, kw: dict[str, Any]) -> PostgresStore:
        return PostgresStore(self.target, **kw)

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(self.target, timeout=10)
        try:
            return [tuple(row) for row in await conn.fetch(sql, timeout=30)]
        finally:
            await conn.close()

    async def version(self) -> int:
        return int(await self.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def set_version(self, version: int) -> None:
        await self.fetch(
            f"INSERT INTO schema_migrations (version, description) VALUES ({int(version)}, 'x')"
        )

    async def tables(self) -> set[str]:
        rows = await self.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {name for (name,) in rows}

    async def columns(self, table: str) -> set[str]:
        rows = await self.fetch(
            "SELECT column_name FROM information_schema.columns"
            f" WHERE table_schema = current_schema() AND table_name = '{table}'"
        )
        return {name for (name,) in rows}


async def _reach(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL; skips when unset, fails (never skips) when set but unreachable."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(HOW_TO_RUN)
    try:
        asyncio.run(_reach(url))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL cannot be reached there: {exc}")
    return url


@pytest.fixture
async def postgres_backend(postgres_url: str) -> AsyncIterator[PostgresBackend]:
    """A fresh schema for one test, dropped after it."""
    backend = PostgresBackend(postgres_url, f"bridge_test_{uuid.uuid4().hex[:12]}")
    admin = await asyncpg.connect(postgres_url, timeout=10)
    try:
        await admin.execute(f"CREATE SCHEMA {backend.schema}")
        yield backend
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {backend.schema} CASCADE")
        await admin.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return SQLiteBackend(tmp_path / "bridge.db")
    pg: PostgresBackend = request.getfixturevalue("postgres_backend")
    return pg


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    async with backend.store() as opened:
        yield opened
