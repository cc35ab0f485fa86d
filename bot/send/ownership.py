"""Which sends this replica owns: leases acquired, renewed every third of ``takeover_after``,
released when a send is reported — and the watcher that takes over sends whose owner died.

Why here and not in the runner: ownership is a replica's concern, the same for a send started
from Slack, confirmed, retried, recovered or sent from the terminal. On SQLite (one process on
its file) every lease is granted in memory and nothing is ever taken over while it runs: the
start-up recovery is what resumes a crashed bridge's sends, as before leases existed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from bot import metrics
from bot.dispatch_batch import Recorder
from bot.store.base import Store
from bot.store.leases import Lease, LeaseBook, LeaseLost
from bot.tasks import stop_task
from providers.base import Outcome, Recipient

log = logging.getLogger(__name__)

TakeOver = Callable[[Lease], Awaitable[None]]
Lost = Callable[[Lease], None]


def new_replica_id() -> str:
    """Unique per process start: host, pid and a random suffix (a pid may be reused)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


class LocalBook:
    """The lease book of a store only one process uses (SQLite): every lease is granted."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def acquire(self, group_id: str, owner: str, ttl: timedelta) -> Lease | None:
        return Lease(group_id, owner, 0)

    async def take(self, group_id: str, owner: str, ttl: timedelta) -> Lease | None:
        return Lease(group_id, owner, 0)

    async def renew(self, leases: Sequence[Lease], ttl: timedelta) -> set[str]:
        return {lease.group_id for lease in leases}

    async def release(self, lease: Lease) -> None:
        return None

    async def holds(self, lease: Lease) -> bool:
        return True

    async def claim_stale(
        self, owner: str, ttl: timedelta, grace: timedelta, limit: int = 50
    ) -> list[Lease]:
        return []

    async def attempt_started(
        self, lease: Lease, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        await self._store.attempt_started(request_id, recipients, attempt)

    async def set_report(self, lease: Lease, request_id: str, channel: str, ts: str) -> None:
        await self._store.set_report(request_id, channel, ts)

    async def mark_reported(self, lease: Lease, request_ids: Sequence[str]) -> None:
        await self._store.mark_reported(request_ids)


class FencedRecorder:
    """The dispatcher's recorder for one send: attempts are claimed under its lease."""

    def __init__(self, store: Store, book: LeaseBook, lease: Lease) -> None:
        self._store = store
        self._book = book
        self._lease = lease

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        await self._book.attempt_started(self._lease, request_id, recipients, attempt)

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        await self._store.outcomes_recorded(request_id, outcomes)

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None:
        await self._store.batch_accepted(request_id, recipients_count)


class Ownership:
    """This replica's leases; one background loop renews them and, once ``watch`` is called,
    claims lapsed ones for ``take_over``."""

    def __init__(self, store: Store, takeover_after: timedelta, replica_id: str | None = None):
        shared = store.lease_book()
        self.shared = shared is not None
        self.book: LeaseBook = shared if shared is not None else LocalBook(store)
        self.store = store
        self.replica_id = replica_id or new_replica_id()
        self.ttl = takeover_after
        self.interval = max(takeover_after.total_seconds() / 3, 0.05)
        self._held: dict[str, Lease] = {}
        self._on_lost: Lost | None = None
        self._take_over: TakeOver | None = None
        self._loop: asyncio.Task[None] | None = None
        metrics.OWNED.labels(self.replica_id).set_function(lambda: len(self._held))

    def recorder(self, lease: Lease) -> Recorder:
        return FencedRecorder(self.store, self.book, lease)

    async def acquire(self, group_id: str) -> Lease | None:
        """Own a new (or just confirmed) send; None if another replica already does."""
        lease = await self.book.acquire(group_id, self.replica_id, self.ttl)
        if lease is not None:
            self.adopt(lease)
        return lease

    def adopt(self, lease: Lease) -> None:
        """Keep renewing ``lease`` (acquired here, or claimed by the watcher)."""
        self._held[lease.group_id] = lease
        self._start()

    async def release(self, lease: Lease) -> None:
        if self._held.get(lease.group_id) == lease:
            del self._held[lease.group_id]
        await self.book.release(lease)

    def forget(self, lease: Lease) -> None:
        """Stop renewing a lease that was lost (or a send that stopped without finishing)."""
        if self._held.get(lease.group_id) == lease:
            del self._held[lease.group_id]

    async def settle(self) -> None:
        """Stop the loop if it has nothing left to do (the terminal, after its one send)."""
        if not self._held and self._take_over is None:
            await self._stop_loop()

    async def holds(self, lease: Lease) -> bool:
        return await self.book.holds(lease)

    def watch(self, take_over: TakeOver, on_lost: Lost) -> None:
        """Every tick, also claim sends whose owner stopped renewing (PostgreSQL only)."""
        self._take_over = take_over if self.shared else None
        self._on_lost = on_lost
        self._start()

    def _start(self) -> None:
        if self.shared and (self._loop is None or self._loop.done()):
            self._loop = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly away: try again next tick
                log.warning("lease watcher tick failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        """Renew what this replica owns (dropping what it lost), then take over lapsed sends."""
        held = list(self._held.values())
        kept = await self.book.renew(held, self.ttl)
        for lease in held:
            if lease.group_id in kept or self._held.get(lease.group_id) != lease:
                continue  # renewed, or released meanwhile (its send finished): not lost
            self.forget(lease)
            log.warning(
                "lost the lease on a send: another replica took it over",
                extra={"group": lease.group_id, "replica": self.replica_id},
            )
            if self._on_lost is not None:
                self._on_lost(lease)
        if self._take_over is None:
            return
        for lease in await self.book.claim_stale(self.replica_id, self.ttl, grace=self.ttl):
            metrics.TAKEOVERS.labels(self.replica_id).inc()
            log.warning(
                "taking over a send whose replica stopped renewing its lease",
                extra={"group": lease.group_id, "replica": self.replica_id},
            )
            self.adopt(lease)
            try:
                await self._take_over(lease)
            except LeaseLost:
                self.forget(lease)

    async def close(self) -> None:
        with contextlib.suppress(KeyError):
            metrics.OWNED.remove(self.replica_id)
        await self._stop_loop()

    async def _stop_loop(self) -> None:
        await stop_task(self._loop)
        self._loop = None
