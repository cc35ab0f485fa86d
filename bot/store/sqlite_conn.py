"""One SQLite connection for the send record: opening, pragmas, migrations, transactions.

Why this shape: one connection per store, on a thread of its own (``sqlite_thread``: the event
loop never blocks, and a whole transaction is one trip to the thread), WAL with
``synchronous=FULL`` so a committed row survives a crash or a power cut, and writes queued so
transactions never interleave. A write returns only after the COMMIT that holds its rows;
writes that arrive together share that commit (one fsync and one trip for many callers), and
shared writes of one key (a send's attempt claims) share their statements too. A caller
cancelled mid-write does not cancel the write — the message may already have gone, so its record
must land. The file is one process's (``sqlite_lock``); a ``reader`` store, for commands that
only read (``history``), reads it beside the process that owns it, and writes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from bot.store import receipts_sql as receipts
from bot.store import sqlite_lock
from bot.store.base import StoreError
from bot.store.migrations import MIGRATIONS, Migration, latest_version, migrate, schema_version
from bot.store.sqlite_rows import fetch_all, fetch_one, to_text, utcnow
from bot.store.sqlite_shared import Pending, Shared, Unit, units_of
from bot.store.sqlite_sql import SQLiteSql
from bot.store.sqlite_thread import Body, DatabaseThread, SyncDB, run_inline

DEFAULT_PATH = "var/bridge.db"
log = logging.getLogger(__name__)
T = TypeVar("T")


def default_path() -> str:
    """``$BRIDGE_DB``, else ``var/bridge.db`` (relative to the working directory)."""
    return os.environ.get("BRIDGE_DB") or DEFAULT_PATH


_Result = tuple[BaseException | None, Any]


def _settle(done: asyncio.Future[Any], error: BaseException) -> None:
    if done.cancelled():  # nobody is left to see it
        log.error("a send-record write failed after its caller was cancelled: %s", error)
    elif not done.done():
        done.set_exception(error)


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
        reader: bool = False,
    ) -> None:
        self.path = Path(path if path is not None else default_path())
        self.reader = reader  # may read a file another process owns (then writes nothing)
        self._lock: str | None = None  # the key of this process's lock on the file, once held
        self.parked_ttl = parked_ttl
        self._clock = clock
        self._migrations = tuple(migrations)
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._thread = DatabaseThread()
        # Writes for the next transaction, shared with the database thread (under _queue_lock),
        # which takes them as soon as it has committed the previous ones.
        self._queue: list[Pending] = []
        self._queue_lock = threading.Lock()
        self._draining = False  # the database thread is committing (under _queue_lock)
        # An urgent write is queued and a drain ahead of every other job is on its way (under
        # _queue_lock): a client's answer waits on it (``_write(urgent=True)``).
        self._urgent_drain = False
        self._unanswered = 0  # writes whose callers have no answer yet (event loop only)
        self._idle = asyncio.Event()  # set when that is zero (close waits)
        self._idle.set()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, open={self._thread.is_open})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        if self._thread.is_open:
            return
        await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
        try:
            self._lock = await asyncio.to_thread(sqlite_lock.acquire, self.path)
        except StoreError:  # held by another process, or no lock file can be made here
            if not self.reader:
                raise
        try:
            await self._thread.open(self.path)
            try:
                prepare = self._prepare if self._lock is not None else self._prepare_to_read
                await self._thread.run_body(prepare)
            except BaseException:
                await self._thread.close()
                raise
        except BaseException:
            self._let_go()
            raise
        if self._lock is not None:
            await self._write(lambda db: receipts.prune(SQLiteSql(db), self._parked_cutoff()))

    async def _prepare(self, db: SyncDB) -> None:
        """Pragmas, then migrations (on the database thread, before anything else runs)."""
        await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        row = await fetch_one(db, "PRAGMA journal_mode = WAL")
        if row is None or str(row[0]).lower() != "wal":
            raise StoreError(f"cannot use write-ahead logging on {str(self.path)!r}")
        await db.execute("PRAGMA synchronous = FULL")
        await db.execute("PRAGMA foreign_keys = ON")
        await migrate(db, self._migrations)

    async def _prepare_to_read(self, db: SyncDB) -> None:
        """A reader beside the owner: no migration (the owner's job), no write at all."""
        await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        await db.execute("PRAGMA query_only = ON")
        found, expected = await schema_version(db), latest_version(self._migrations)
        if found != expected:
            raise StoreError(
                f"the send record {str(self.path)!r} is at schema version {found}, this command "
                f"reads version {expected}, and the process that owns the file (see "
                f"{str(sqlite_lock.lock_path(self.path))!r}) is of another version: run the "
                "command with the same version as that process"
            )

    def _let_go(self) -> None:
        if self._lock is not None:
            sqlite_lock.release(self._lock)
            self._lock = None

    async def close(self) -> None:
        """Finish every write in progress, then close (safe to call twice)."""
        await self._idle.wait()
        try:
            await self._thread.close()
        finally:
            self._let_go()

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

    def _check_open(self) -> None:
        if not self._thread.is_open:
            raise StoreError("the send record is not open")

    async def _run(self, body: Body[T]) -> T:
        """A read (or anything outside a write transaction), in one trip to the thread."""
        self._check_open()
        return await self._thread.run_body(body)

    def _now(self) -> str:
        return to_text(self._clock())

    async def _write(self, body: Body[T], *, urgent: bool = False) -> T:
        """Run ``body`` in a committed transaction; it completes even if the caller is cancelled.

        Writes that arrive while one is being committed are grouped into the next transaction
        (each in its own savepoint, so one failing body undoes only itself): with many sends
        recording at once, one fsync serves many callers, and each still returns only after
        the commit that holds its rows. The database thread takes the next group itself, the
        moment it has committed one, so no turn of the event loop comes between two commits.
        ``urgent``: a client's answer waits on it; its group is committed before any job (read)
        queued on the thread that has not started yet.
        """
        return cast(T, await self._queue_write(body, urgent=urgent))

    async def _write_shared(self, write: Shared) -> list[Any]:
        """``_write`` for a ``Shared`` write: the items of ``write`` it could not apply."""
        return cast(list[Any], await self._queue_write(write))

    def _queue_write(
        self, write: Body[Any] | Shared, *, urgent: bool = False
    ) -> asyncio.Future[Any]:
        self._check_open()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        self._unanswered += 1
        self._idle.clear()
        with self._queue_lock:
            self._queue.append((write, done))
            start, self._draining = not self._draining, True
            # A drain is queued behind other jobs, or running: one more, ahead of them all,
            # takes this write (the queued one then finds nothing, or what came after).
            jump = urgent and not self._urgent_drain
            self._urgent_drain = self._urgent_drain or urgent
        if start or jump:
            drain = functools.partial(self._drain, loop=loop)
            self._thread.submit(drain, _drain_failed, urgent=urgent)
        # A cancelled caller cancels only its wait: the transaction goes on (``_settle``).
        return done

    def _drain(self, db: SyncDB, *, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread: commit what is queued and hand the answers to the loop. If
        more was queued meanwhile, the next round is queued on the thread behind any read
        submitted in between, so a long run of writes never starves reads."""
        with self._queue_lock:
            batch, self._queue = self._queue, []
            self._urgent_drain = False
        if not batch:  # an urgent drain took them first
            with self._queue_lock:
                more = self._draining = bool(self._queue)
            if more:
                drain = functools.partial(self._drain, loop=loop)
                self._thread.submit(drain, _drain_failed, loop=loop)
            return
        units = units_of(batch)
        result: list[_Result] | BaseException
        try:
            result = _commit(db, [unit.body for unit in units])
        except BaseException as exc:  # answered to every caller of this batch
            result = exc
        with self._queue_lock:
            more = self._draining = bool(self._queue)
        if more:
            drain = functools.partial(self._drain, loop=loop)
            self._thread.submit(drain, _drain_failed, loop=loop)
        loop.call_soon_threadsafe(self._committed, units, result)

    def _committed(self, units: list[Unit], result: list[_Result] | BaseException) -> None:
        """On the loop once COMMIT returned (or the transaction failed): answer every caller."""
        answered = 0
        for index, unit in enumerate(units):
            answered += len(unit.futures)
            error, value = (result, None) if isinstance(result, BaseException) else result[index]
            if error is not None:
                aborted = error if isinstance(error, Exception) else StoreError("write aborted")
                for done in unit.futures:
                    _settle(done, aborted)
                continue
            for done, share in zip(unit.futures, unit.split(value), strict=True):
                if not done.done():
                    done.set_result(share)
        self._unanswered -= answered
        if not self._unanswered:
            self._idle.set()

    async def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        return await self._run(lambda db: fetch_all(db, sql, params))

    def _parked_cutoff(self) -> str:
        return to_text(self._clock() - self.parked_ttl)


def _drain_failed(result: object) -> None:
    """The drain itself cannot fail (each batch's error goes to its callers); if it ever did,
    say so rather than leave callers waiting in silence."""
    if isinstance(result, BaseException):
        log.error("the send record's database thread stopped: %s", result)


def _commit(db: SyncDB, bodies: Sequence[Body[Any]]) -> list[_Result]:
    """On the database thread: every body in one transaction, each in a savepoint of its own
    when there are several; returns (error, value) per body once COMMIT has returned."""
    results: list[_Result] = []
    try:
        db.run("BEGIN IMMEDIATE")
        if len(bodies) == 1:  # alone in its transaction: no savepoint needed to undo it
            try:
                results.append((None, run_inline(bodies[0](db))))
            except Exception as exc:
                db.run("ROLLBACK")
                return [(exc, None)]
        for body in bodies if len(bodies) > 1 else ():
            db.run("SAVEPOINT one_write")
            try:
                value = run_inline(body(db))
            except Exception as exc:
                db.run("ROLLBACK TO one_write")
                db.run("RELEASE one_write")
                results.append((exc, None))
            else:
                db.run("RELEASE one_write")
                results.append((None, value))
        db.run("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.run("ROLLBACK")
        raise
    return results
