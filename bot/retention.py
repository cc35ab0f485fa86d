"""``defaults.keep_records``: the running bridge removes finished sends and ended pages older
than that, hourly, in small batches, on one replica at a time.

Why a lease: several replicas on one PostgreSQL would otherwise purge the same rows at once
(harmless, but twice the load, and the log would say so twice). The ``chore:purge-records``
lease is taken before a run, renewed between passes, and released after; a replica that dies
mid-run leaves it to lapse, and the next run (on any replica) takes it over. On SQLite, one
process owns the file, so the lease is granted in memory. What is kept (anything in flight) is
decided by the store's statements (``bot.store.retention_sql``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import metrics
from bot.send.ownership import LocalBook
from bot.store.base import Store
from bot.store.leases import CHORE_PREFIX, LeaseBook
from bot.tasks import stop_task

log = logging.getLogger(__name__)

PURGE_LEASE = f"{CHORE_PREFIX}purge-records"
BATCH = 500  # rows a statement: a short transaction, so sends and receipts are not held up
INTERVAL = 3600.0  # seconds between runs
LEASE_TTL = timedelta(minutes=5)  # renewed after every pass, which takes well under a second


@dataclass
class PurgeRun:
    """What one run did: rows deleted per table and passes made; ``skipped`` when another
    replica held the lease."""

    deleted: dict[str, int] = field(default_factory=dict)
    passes: int = 0
    skipped: bool = False

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


class Purger:
    """Runs the purge every ``interval`` seconds (``sleep`` is the test's to drive)."""

    def __init__(
        self,
        store: Store,
        keep: timedelta,
        *,
        clock: Callable[[], datetime],
        owner: str,
        batch: int = BATCH,
        interval: float = INTERVAL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lease_ttl: timedelta = LEASE_TTL,
    ) -> None:
        shared = store.lease_book()
        self.book: LeaseBook = shared if shared is not None else LocalBook(store)
        self.store = store
        self.keep = keep
        self.clock = clock
        self.owner = owner
        self.batch = batch
        self.interval = interval
        self.sleep = sleep
        self.lease_ttl = lease_ttl
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> PurgeRun:
        """One run: passes of bounded deletes until a pass deletes nothing (or the lease is
        lost to another replica, which then carries on)."""
        lease = await self.book.take(PURGE_LEASE, self.owner, self.lease_ttl)
        if lease is None:
            return PurgeRun(skipped=True)
        run = PurgeRun()
        try:
            cutoff = self.clock() - self.keep
            while True:
                step = await self.store.purge_step(cutoff, self.batch)
                run.passes += 1
                for table, count in step.items():
                    run.deleted[table] = run.deleted.get(table, 0) + count
                    if count:
                        metrics.RECORDS_PURGED.labels(table).inc(count)
                if not any(step.values()):
                    break
                if not await self.book.renew([lease], self.lease_ttl):
                    log.warning("lost the purge lease mid-run: another replica carries on")
                    return run
                await asyncio.sleep(0)  # a pass is a few statements: let the bridge run between
        finally:
            await self.book.release(lease)
        if run.total:
            counts = ", ".join(f"{n} {t}" for t, n in run.deleted.items() if n)
            log.info("removed records older than %s: %s", cutoff.isoformat(), counts)
        return run

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly away: the next run retries
                log.warning("removing old records failed", extra={"error": type(exc).__name__})
            await self.sleep(self.interval)
