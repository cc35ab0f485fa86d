"""The SQLite store's database thread: one trip per transaction, and fair to reads.

Why: the store's operations run to their end on the database thread (``run_inline``), and
that thread takes the next group of writes as soon as it has committed one. Neither may cost a
caller its answer: an operation that awaits anything else is refused with a clear error, and a
read waits behind at most the transaction in progress, never behind a long run of writes. A
write a client's answer waits on (``urgent``: an alert notification) goes ahead of the reads
and writes queued by background work, and commits with the writes queued before it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

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


async def test_an_urgent_write_goes_ahead_of_what_is_queued(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), recipients("R1", 3), None)
        started, release = threading.Event(), threading.Event()
        order: list[str] = []

        def titled(title: str) -> Callable[[SyncDB], Coroutine[Any, Any, None]]:
            async def body(db: SyncDB) -> None:
                if title == "held":  # keeps the thread busy while the rest queues up
                    started.set()
                    release.wait(10)
                await db.execute("UPDATE requests SET title = ?", (title,))

            return body

        async def write(title: str, *, urgent: bool = False) -> None:
            await store._write(titled(title), urgent=urgent)
            order.append(title)

        async def read(name: str) -> None:
            await store.get_request("R1")
            order.append(name)

        first = asyncio.ensure_future(write("held"))
        await asyncio.to_thread(started.wait, 10)  # the first transaction is on the thread
        behind = [asyncio.ensure_future(read(f"read {n}")) for n in range(3)]
        queued = asyncio.ensure_future(write("queued"))  # a background write, behind the reads
        await asyncio.sleep(0)
        urgent = asyncio.ensure_future(write("urgent", urgent=True))
        await asyncio.sleep(0)
        release.set()
        await asyncio.wait_for(asyncio.gather(first, *behind, queued, urgent), 10)

        # The urgent write took the queued one with it (one commit), before any read.
        assert order[:1] == ["held"]
        assert set(order[1:3]) == {"queued", "urgent"}
        assert order[3:] == ["read 0", "read 1", "read 2"]
        record = await store.get_request("R1")
        assert record is not None
        assert record.title == "urgent"  # queued first, committed in that order


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
