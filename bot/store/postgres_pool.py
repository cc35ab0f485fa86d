"""Connections from asyncpg's pool without the turns of the event loop around each one.

Why: ``Pool.acquire(timeout=…)`` runs the acquisition in a task of its own (``wait_for``), and
``Pool.release`` runs in another behind ``shield``; awaited in line, they put five turns of the
event loop around every statement, each about a millisecond while a big send keeps the loop busy,
and an attempt claim is on the path between a recipient's turn and its call (bench/store.py).
Here the acquisition is bounded by ``asyncio.timeout`` (no task), and the connection goes back to
the pool in a task the caller does not wait for: it already has its answer. ``settle`` waits for
those returns, before the pool closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)


class Connections:
    """Borrow a pooled connection for one job: ``async with connections.one() as conn``."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self.pool = pool
        self._timeout = timeout
        self._returning: set[asyncio.Future[Any]] = set()

    @asynccontextmanager
    async def one(self) -> AsyncIterator[PoolConnectionProxy[asyncpg.Record]]:
        async with asyncio.timeout(self._timeout):  # waiting for a free connection, bounded
            conn = await self.pool.acquire()
        try:
            yield conn
        finally:
            returning = asyncio.ensure_future(self.pool.release(conn))
            self._returning.add(returning)
            returning.add_done_callback(self._returned)

    def _returned(self, returning: asyncio.Future[Any]) -> None:
        self._returning.discard(returning)
        if not returning.cancelled() and (exc := returning.exception()) is not None:
            log.error("a connection could not go back to the pool (it is dropped): %s", exc)

    async def settle(self) -> None:
        """Wait until every connection lent out is back in the pool.

        Each pass forgets the returns it waited for itself: on Python 3.12+ ``gather`` of futures
        already done finishes without yielding, so their done callbacks (``_returned``) would not
        run first, and a loop on the set alone would spin forever."""
        while self._returning:
            returning = tuple(self._returning)
            await asyncio.gather(*returning, return_exceptions=True)
            self._returning.difference_update(returning)
