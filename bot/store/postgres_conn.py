"""A pool of PostgreSQL connections for the send record: opening, migrations, transactions.

Why asyncpg rather than psycopg 3: it is asyncio-native with its own pool, speaks the binary
protocol with prepared statements cached per connection (the dispatcher writes a few statements
per recipient, so round-trip cost is what matters), and ``asyncpg-stubs`` types it for
``mypy --strict``. psycopg 3 would have served too; it adds a separate pool package and nothing
this store needs.

Each write is its own transaction on a pooled connection (PostgreSQL serialises concurrent writers
itself, with the row and advisory locks the operations take). As with SQLite, a write returns only
after its COMMIT, and a caller cancelled mid-write does not cancel the write: the message may
already have gone, so its record must land. The one exception is an attempt claim, a single
statement written before its call: cancelled, it lands whole or not at all, and no call
follows. A transaction aborted by a deadlock or a serialization failure is run again from the
start (nothing of it was committed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from bot.store import receipts_sql as receipts
from bot.store.base import StoreError
from bot.store.migrations import Migration
from bot.store.postgres_pacing import PostgresSlotClaimer
from bot.store.postgres_pool import Connections
from bot.store.postgres_rows import Conn, utc
from bot.store.postgres_schema import MIGRATIONS, migrate
from bot.store.postgres_sql import PostgresSql
from bot.store.sqlite_rows import utcnow
from bot.store.target import is_postgres_url, redact_url, scrub_url_secrets

log = logging.getLogger(__name__)
T = TypeVar("T")
Tx = Callable[[Conn], Awaitable[T]]

_RETRIES = 5  # a deadlock between two replicas is rare; five in a row is a bug worth seeing


def _log_orphaned_failure(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and (exc := done.exception()) is not None:
        log.error("a send-record write failed after its caller was cancelled: %s", exc)


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Return a connection to the pool as it is (a transaction left open is still rolled back).

    asyncpg's default sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on
    every release: one more round trip for every write, paid by the dispatcher between a
    recipient's turn and its call. The store keeps no session state to undo: its advisory
    locks are transaction-scoped, it opens no cursor outside a transaction, listens to nothing
    and sets nothing after connecting. Code that adds session state must undo it itself.
    """


class PostgresConnection:
    """Lifecycle and transactions; ``PostgresStore`` adds the operations."""

    kind = "postgresql"

    # Settings may ride on the URL's query: ``postgresql://…/db?search_path=bridge`` keeps the
    # tables in schema ``bridge`` (asyncpg passes unknown query parameters as server settings).
    def __init__(
        self,
        url: str,
        *,
        parked_ttl: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = utcnow,
        migrations: Sequence[Migration] = MIGRATIONS,
        pool_size: int = 10,
        timeout: float = 30.0,
    ) -> None:
        if not is_postgres_url(url):
            raise ValueError("a PostgreSQL store needs a postgresql:// or postgres:// URL")
        self.url = url
        self.parked_ttl = parked_ttl
        self._clock = clock
        self._migrations = tuple(migrations)
        self._pool_size = pool_size
        self._timeout = timeout
        self._pool: Connections | None = None
        # A connection of its own for writes a waiting client's answer hangs on (alert
        # notifications, ``_urgent_tx``): queued behind the pool's other borrowers (a storm's
        # pages and Slack updates), a storm's answers waited seconds for a connection.
        self._lane: Connections | None = None
        self._writes: set[asyncio.Future[Any]] = set()  # in progress (close waits for them)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_url(self.url)!r}, open={self._pool is not None})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            pool = await self._create_pool(self._pool_size)
            try:
                lane = await self._create_pool(1)
            except BaseException:
                await pool.close()
                raise
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise StoreError(
                f"cannot reach the send record at {redact_url(self.url)}: "
                f"{scrub_url_secrets(str(exc), self.url)} — check that PostgreSQL is running there "
                "and BRIDGE_DB names the right host, user and database"
            ) from None
        except (ValueError, TypeError, ArithmeticError, asyncpg.InterfaceError) as exc:
            # The URL itself is wrong (a port that is not a number, a broken IPv6 literal, an
            # unknown sslmode): asyncpg says so while parsing it, before any connection.
            raise StoreError(
                f"BRIDGE_DB {redact_url(self.url)} cannot be used: "
                f"{scrub_url_secrets(str(exc), self.url) or type(exc).__name__} — write it as "
                "postgresql://user:password@host:5432/db (IPv6 hosts in [brackets], options such "
                "as ?sslmode=require after the database)"
            ) from None
        try:
            async with pool.acquire(timeout=self._timeout) as conn:
                await migrate(conn, self._migrations)
        except BaseException:
            await pool.close()
            await lane.close()
            raise
        self._pool = Connections(pool, self._timeout)
        self._lane = Connections(lane, self._timeout)
        await self._write(lambda conn: receipts.prune(PostgresSql(conn), self._parked_cutoff()))

    async def _create_pool(self, size: int) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self.url,
            min_size=1,
            max_size=size,
            timeout=self._timeout,  # to connect
            command_timeout=self._timeout,  # every statement
            reset=_keep_session,
        )

    async def close(self) -> None:
        """Finish every write in progress, then close (safe to call twice)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        pool, self._pool = self._pool, None
        lane, self._lane = self._lane, None
        for each in (pool, lane):
            if each is not None:
                await each.settle()
                await asyncio.wait_for(each.pool.close(), self._timeout)

    async def ping(self) -> bool:
        """True if the database answers ``SELECT 1`` within 5 s (a health check must not hang)."""
        try:
            return bool(await asyncio.wait_for(self._value("SELECT 1"), 5))
        except (TimeoutError, StoreError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    def slot_claimer(self) -> PostgresSlotClaimer:
        """Replicas pace their accounts through this database (``bot.pacer.SharedPacer``)."""
        return PostgresSlotClaimer(self._pool_or_raise, self._timeout)

    # -- plumbing ----------------------------------------------------------------------------

    def _pool_or_raise(self) -> Connections:
        if self._pool is None:
            raise StoreError("the send record is not open")
        return self._pool

    def _now(self) -> datetime:
        return utc(self._clock())

    def _parked_cutoff(self) -> datetime:
        return utc(self._clock() - self.parked_ttl)

    def _lane_or_raise(self) -> Connections:
        if self._lane is None:
            raise StoreError("the send record is not open")
        return self._lane

    async def _write(
        self,
        body: Tx[T],
        *,
        one_statement: bool = False,
        shielded: bool = True,
        lane: bool = False,
    ) -> T:
        """Run ``body`` in a committed transaction; it completes even if the caller is cancelled.

        ``one_statement``: ``body`` runs a single statement, atomic on its own, so it is sent
        without ``BEGIN``/``COMMIT`` (one round trip instead of three).
        ``shielded=False``: run it in the caller's own task (two turns of the event loop fewer),
        for a single statement whose caller acts only once it returns (an attempt claim): a
        caller cancelled meanwhile leaves it committed or not, and acts on it in neither case.
        ``lane``: on the connection kept for writes an answer waits on (``_lane``).
        """
        pool = self._lane_or_raise() if lane else self._pool_or_raise()
        if not shielded and one_statement:
            return await self._transaction(pool, body, one_statement)
        task = asyncio.ensure_future(self._transaction(pool, body, one_statement))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_log_orphaned_failure)  # nobody is left to see an error
            raise

    async def _transaction(self, pool: Connections, body: Tx[T], one_statement: bool) -> T:
        for attempt in range(1, _RETRIES + 1):
            try:
                async with pool.one() as conn:
                    if one_statement:
                        return await body(conn)
                    async with conn.transaction():
                        return await body(conn)
            except asyncpg.TransactionRollbackError:  # deadlock or serialization failure
                if attempt == _RETRIES:
                    raise
                log.info("a send-record write met a concurrent one; running it again")
        raise AssertionError("unreachable")

    async def _read(self, sql: str, *args: object) -> list[asyncpg.Record]:
        async with self._pool_or_raise().one() as conn:
            return list(await conn.fetch(sql, *args))

    async def _value(self, sql: str, *args: object) -> Any:
        async with self._pool_or_raise().one() as conn:
            return await conn.fetchval(sql, *args)
