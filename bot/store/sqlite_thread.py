"""The SQLite connection on a thread of its own, one whole transaction per trip to it.

Why: the event loop must never wait on the disk, so SQLite runs on a thread; but every trip
between a busy event loop and that thread costs a turn of the loop (about a millisecond while a
big send is going out), and a transaction of six statements used to make six trips, each one on
the path between a recipient's turn and its provider call. Here the store's operations stay
coroutines over ``SyncDB``, whose methods run ``sqlite3`` at once and never suspend, so the
database thread drives a whole transaction (statements, savepoints, COMMIT) to its end in one
trip (``run_inline``).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")
Body = Callable[["SyncDB"], Coroutine[Any, Any, T]]


class Cursor:
    """A statement's result, read on the database thread."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def close(self) -> None:
        self._cursor.close()


class SyncDB:
    """What a store operation is given: ``sqlite3`` calls behind async methods that never
    suspend, so the same operation code reads as async and runs to its end on the thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    # ``run`` and ``run_many`` are the only places a statement is executed (bench/store.py
    # counts statements there).
    def run(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    async def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        return Cursor(self.run(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> Cursor:
        return Cursor(self.run_many(sql, rows))

    async def execute_fetchall(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Execute, fetch every row and close the cursor."""
        cursor = self.run(sql, params)
        try:
            return cast(list[sqlite3.Row], cursor.fetchall())
        finally:
            cursor.close()


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Drive a store operation to its end here and now (it may await only ``SyncDB``)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return cast(T, stop.value)
    coro.close()
    raise RuntimeError("a send-record operation awaited something other than the database")


class DatabaseThread:
    """One thread owning one ``sqlite3`` connection; jobs run one at a time, in order."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._db: SyncDB | None = None
        # Jobs that go before everything queued: each job run first runs these (a client's
        # answer waits on them, while reads queued by background work can be hundreds).
        self._urgent: collections.deque[Callable[[], None]] = collections.deque()

    @property
    def is_open(self) -> bool:
        return self._db is not None

    async def open(self, path: Path) -> None:
        """Connect in autocommit mode (transactions are the store's own ``BEGIN``s)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-sqlite")

        def connect() -> SyncDB:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            return SyncDB(conn)

        try:
            self._db = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._executor = executor

    async def run(self, job: Callable[[SyncDB], T]) -> T:
        """Run ``job`` on the thread (after every job submitted before it)."""
        if self._executor is None or self._db is None:
            raise RuntimeError("the database thread is not open")
        db = self._db

        def work() -> T:
            self._run_urgent()
            return job(db)

        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def submit(
        self,
        job: Callable[[SyncDB], T],
        then: Callable[[T | BaseException], object],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        urgent: bool = False,
    ) -> None:
        """Run ``job`` on the thread and hand its result (or exception) to ``then`` on the
        event loop: one turn of the loop after the job ends, with nothing awaiting in between.
        ``loop`` is given by a job on the thread queuing what follows it (no loop runs there).
        ``urgent``: before every job queued and not yet started."""
        if self._executor is None or self._db is None:
            raise RuntimeError("the database thread is not open")
        loop, db = loop or asyncio.get_running_loop(), self._db

        def work() -> None:
            result: T | BaseException
            try:
                result = job(db)
            except BaseException as exc:  # handed on: the loop side decides
                result = exc
            loop.call_soon_threadsafe(then, result)

        if urgent:  # run by whichever job the thread takes next (this one's turn finds none)
            self._urgent.append(work)
            self._executor.submit(self._run_urgent)
        else:
            self._executor.submit(self._after_urgent, work)

    def _run_urgent(self) -> None:
        while True:
            try:
                job = self._urgent.popleft()
            except IndexError:
                return
            job()

    def _after_urgent(self, job: Callable[[], None]) -> None:
        self._run_urgent()
        job()

    async def run_body(self, body: Body[T]) -> T:
        """Run one store operation, statements and all, in a single trip to the thread."""
        return await self.run(lambda db: run_inline(body(db)))

    async def close(self) -> None:
        """Close the connection on its thread, then let the thread end (safe to call twice)."""
        executor, db = self._executor, self._db
        if executor is None or db is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, db.conn.close)
        finally:
            self._executor, self._db = None, None
            executor.shutdown(wait=False)
