"""One SQLite connection for the send record: opening, pragmas, migrations, transactions.

Why this shape: one connection per store (aiosqlite runs it on its own thread, so the event loop
never blocks), WAL with ``synchronous=FULL`` so a committed row survives a crash or a power cut,
and one lock so transactions never interleave. A write returns only after the COMMIT that holds
its rows; writes that arrive together share that commit (one fsync for many callers). A caller
cancelled mid-write (a dispatch torn down) does not cancel the write — the message may already
have gone, so its record must land.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import aiosqlite

from bot.store import sqlite_receipts as receipts
from bot.store.base import StoreError
from bot.store.migrations import MIGRATIONS, Migration, migrate
from bot.store.sqlite_rows import fetch_all, fetch_one, to_text, utcnow

DEFAULT_PATH = "var/bridge.db"
log = logging.getLogger(__name__)
T = TypeVar("T")
Tx = Callable[[aiosqlite.Connection], Awaitable[T]]


def default_path() -> str:
    """``$BRIDGE_DB``, else ``var/bridge.db`` (relative to the working directory)."""
    return os.environ.get("BRIDGE_DB") or DEFAULT_PATH


_Pending = tuple[Callable[[aiosqlite.Connection], Awaitable[Any]], asyncio.Future[Any]]


def _settle(done: asyncio.Future[Any], error: BaseException) -> None:
    if not done.done():
        done.set_exception(error)


def _log_orphaned_failure(done: asyncio.Future[Any]) -> None:
    if not done.cancelled() and (exc := done.exception()) is not None:
        log.error("a send-record write failed after its caller was cancelled: %s", exc)


class SQLiteConnection:
    """Lifecycle and transactions; ``SQLiteStore`` adds the operations."""

    kind = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        parked_ttl: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = utcnow,
        migrations: Sequence[Migration] = MIGRATIONS,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path if path is not None else default_path())
        self.parked_ttl = parked_ttl
        self._clock = clock
        self._migrations = tuple(migrations)
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._writes: set[asyncio.Future[Any]] = set()  # flushes in progress (close waits)
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, open={self._db is not None})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        if self._db is not None:
            return
        await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            row = await fetch_one(db, "PRAGMA journal_mode = WAL")
            if row is None or str(row[0]).lower() != "wal":
                raise StoreError(f"cannot use write-ahead logging on {str(self.path)!r}")
            await db.execute("PRAGMA synchronous = FULL")
            await db.execute("PRAGMA foreign_keys = ON")
            await migrate(db, self._migrations)
        except BaseException:
            await db.close()
            raise
        self._db = db
        await self._write(lambda db: receipts.prune(db, self._parked_cutoff()))

    async def close(self) -> None:
        """Finish every write in progress, then close (safe to call twice)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        db, self._db = self._db, None
        if db is not None:
            await db.close()

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

    def slot_claimer(self) -> None:
        """None: one process owns a SQLite file and paces its accounts in memory."""
        return None

    def lease_book(self) -> None:
        """None: one process owns a SQLite file; it owns every send on it (no leases)."""
        return None

    async def ping(self) -> bool:
        """True if the file answers a query (for /healthz)."""
        try:
            return bool(await self._read("SELECT 1"))
        except (StoreError, sqlite3.Error):
            return False

    # -- plumbing ----------------------------------------------------------------------------

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("the send record is not open")
        return self._db

    def _now(self) -> str:
        return to_text(self._clock())

    async def _write(self, body: Tx[T]) -> T:
        """Run ``body`` in a committed transaction; it completes even if the caller is cancelled.

        Writes that arrive while one is being committed are grouped into the next transaction
        (each in its own savepoint, so one failing body undoes only itself): with many sends
        recording at once, one fsync serves many callers, and each still returns only after
        the commit that holds its rows.
        """
        db = self._conn()
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((body, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush(db))
            self._writes.add(self._flusher)
            self._flusher.add_done_callback(self._writes.discard)
        try:
            return cast(T, await asyncio.shield(done))
        except asyncio.CancelledError:
            done.add_done_callback(_log_orphaned_failure)  # nobody is left to see an error
            raise

    async def _flush(self, db: aiosqlite.Connection) -> None:
        async with self._lock:
            while self._queue:
                batch, self._queue = self._queue, []
                await self._commit(db, batch)

    @staticmethod
    async def _commit(db: aiosqlite.Connection, batch: list[_Pending]) -> None:
        results: list[tuple[asyncio.Future[Any], BaseException | None, Any]] = []
        try:
            await db.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:  # alone in its transaction: no savepoint needed to undo it
                body, done = batch[0]
                try:
                    results.append((done, None, await body(db)))
                except Exception as exc:
                    await db.execute("ROLLBACK")
                    _settle(done, exc)
                    return
            for body, done in batch if len(batch) > 1 else ():
                await db.execute("SAVEPOINT one_write")
                try:
                    value = await body(db)
                except Exception as exc:
                    await db.execute("ROLLBACK TO one_write")
                    await db.execute("RELEASE one_write")
                    results.append((done, exc, None))
                else:
                    await db.execute("RELEASE one_write")
                    results.append((done, None, value))
            await db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            for _, done in batch:
                _settle(done, exc if isinstance(exc, Exception) else StoreError("write aborted"))
            raise
        for done, error, value in results:  # only now: every caller's rows are committed
            if error is not None:
                _settle(done, error)
            elif not done.done():
                done.set_result(value)

    async def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        db = self._conn()
        async with self._lock:
            return await fetch_all(db, sql, params)

    def _parked_cutoff(self) -> str:
        return to_text(self._clock() - self.parked_ttl)
