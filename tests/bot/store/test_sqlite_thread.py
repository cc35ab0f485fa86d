"""The SQLite store's database thread: one trip per transaction, and fair to reads.

Why: the store's operations run to their end on the database thread (``run_inline``), and
that thread takes the next group of writes as soon as it has committed one. Neither may cost a
caller its answer: an operation that awaits anything else is refused with a clear error, and a
read waits behind at most the transaction in progress, never behind a long run of writes.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bot.store import SQLiteStore
from bot.store.sqlite_thread import DatabaseThread, SyncDB, run_inline
from tests.bot.store_fixtures import new_request, recipients


async def test_a_read_is_answered_between_two_groups_of_writes(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), recipients("R1", 3), None)
        started, release = threading.Event(), threading.Event()
        order: list[str] = []

        async def held(db: SyncDB) -> None:  # runs on the database thread
            started.set()
            release.wait(10)
            await db.execute("UPDATE requests SET title = 'held'")

        async def second(db: SyncDB) -> None:
            await db.execute("UPDATE requests SET title = 'second'")

        async def write(body: object, name: str) -> None:
            await store._write(body)  # type: ignore[arg-type]
            order.append(name)

        first = asyncio.ensure_future(write(held, "first write"))
        await asyncio.to_thread(started.wait, 10)  # the first transaction is on the thread
        queued = asyncio.ensure_future(write(second, "second write"))
        await asyncio.sleep(0)  # queued behind the first, for the next transaction
        read = asyncio.ensure_future(store.get_request("R1"))
        await asyncio.sleep(0)
        release.set()
        record = await asyncio.wait_for(read, 10)
        order.append("read")
        await asyncio.wait_for(asyncio.gather(first, queued), 10)

        assert record is not None
        assert record.title == "held"
        assert order == ["first write", "read", "second write"]


async def test_a_store_operation_may_await_only_the_database(tmp_path: Path) -> None:
    """The database thread drives an operation to its end in one go: an operation that waited
    on anything else would never finish there, so it is refused with a clear error."""

    async def waits_on_the_loop(db: object) -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than the database"):
        run_inline(waits_on_the_loop(None))

    thread = DatabaseThread()
    await thread.open(tmp_path / "x.db")
    try:
        with pytest.raises(RuntimeError, match="other than the database"):
            await thread.run_body(waits_on_the_loop)
        assert await thread.run(lambda db: db.conn.execute("SELECT 41 + 1").fetchone()[0]) == 42
    finally:
        await thread.close()
    await thread.close()  # twice is fine
