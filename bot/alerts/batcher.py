"""Group commit for alert notifications: those arriving together recorded in one transaction.

Why: each notification must be committed before its 202, and in a storm hundreds arrive a
second. Recorded one by one, each paid a transaction of its own (PostgreSQL: three round trips
and a commit; the answer p99 of a storm ran to seconds). Here every request handler hands its
notification to one ``Batcher`` and waits; one flush at a time records everything waiting in
one call (``AlertStore.record_alert_notes``: one transaction), then answers each waiter with
its own result. A lone notification is flushed at once (no wait is added when the store is
idle); while a flush is under way the next ones gather, so the batch grows with the load.

Promises: a waiter is answered only after the commit that holds its notification; a failed
flush fails every waiter of that batch (they answer 5xx and the source sends again) and, being
one transaction, records none of it. A waiter cancelled (its client went away) does not cancel
the flush: the notification may already be committed, and the others wait on it too. Past
``max_waiting`` notifications waiting, a new one is refused at once (the source retries later)
rather than queued without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.store.base import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Items recorded together by ``flush`` (one call for many), each waiter answered alone."""

    def __init__(
        self,
        flush: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        max_items: int = 100,
        max_waiting: int = 5000,
    ) -> None:
        self._flush = flush
        self.max_items = max_items  # one flush at most (the statements' size stays bounded)
        self.max_waiting = max_waiting
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.flushes = 0  # calls of ``flush`` made (tests and the bench read it)

    async def submit(self, item: T) -> R:
        """``item``'s result once the flush holding it returned; its error if that failed."""
        if len(self._waiting) >= self.max_waiting:
            raise StoreError(f"{len(self._waiting)} notifications are waiting to be recorded")
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="alert-batcher")
        return await asyncio.shield(done)  # cancelled: only this wait stops

    async def _run(self) -> None:
        """Flush until nothing waits; started by the first item, ends when idle."""
        try:
            await asyncio.sleep(0)  # whatever arrives in this turn of the loop joins the first
            while self._waiting:
                batch = self._waiting[: self.max_items]
                del self._waiting[: self.max_items]
                await self._one(batch)
        finally:
            self._runner = None
            left, self._waiting = self._waiting, []  # only if cancelled: nobody flushes them
            _fail(left, StoreError("the bridge is stopping"))

    async def _one(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.flushes += 1
        try:
            results = await self._flush([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} notifications")
        except BaseException as exc:  # every waiter of this batch hears it: nothing committed
            log.warning(
                "could not record %d alert notification(s) (%s)", len(batch), type(exc).__name__
            )
            error = exc if isinstance(exc, StoreError) else StoreError(type(exc).__name__)
            _fail(batch, error)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, done), result in zip(batch, results, strict=True):
            if not done.done():
                done.set_result(result)

    async def wait_idle(self) -> None:
        """Until every waiting notification has been flushed (shutdown)."""
        while self._runner is not None:
            await asyncio.wait([self._runner])


def _fail(batch: Sequence[tuple[object, asyncio.Future[R]]], error: StoreError) -> None:
    for _, done in batch:
        if not done.done():
            done.set_exception(error)
