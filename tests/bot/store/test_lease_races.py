"""Races between one replica's lease watcher and its own sends, on a real PostgreSQL: a send
that finishes while the watcher renews is not "lost", and work adopted again after its lease
was released never gets back a fencing token that was handed out before.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.send.ownership import Ownership
from bot.store.base import RequestState
from bot.store.leases import Lease
from bot.store.postgres import PostgresStore
from bot.store.postgres_leases import PostgresLeaseBook
from tests.bot.store_backends import PostgresBackend
from tests.bot.store_fixtures import Clock, new_request, recipients

TTL = timedelta(seconds=30)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def store(postgres_backend: PostgresBackend, clock: Clock) -> AsyncIterator[PostgresStore]:
    async with postgres_backend.store(clock=clock) as opened:
        assert isinstance(opened, PostgresStore)
        yield opened


class SendFinishesDuringRenew(PostgresLeaseBook):
    """The real book, with one interleaving pinned: the watcher has taken its snapshot of the
    held leases when a send finishes and releases its lease, just before the renewal runs."""

    def __init__(self, store: PostgresStore) -> None:
        super().__init__(store)
        self.ownership: Ownership | None = None
        self.finishing: Lease | None = None

    async def renew(self, leases: Sequence[Lease], ttl: timedelta) -> set[str]:
        if self.ownership is not None and self.finishing is not None:
            await self.ownership.release(self.finishing)
            self.finishing = None
        return await super().renew(leases, ttl)


async def nothing_to_take_over(lease: Lease) -> None:
    raise AssertionError(f"nothing has lapsed, yet {lease} was taken over")


async def test_a_send_released_while_the_watcher_renews_is_not_lost(
    store: PostgresStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.create_request(new_request("R1"), recipients("R1", 1), None)
    await store.create_request(new_request("R2"), recipients("R2", 1), None)
    ownership = Ownership(store, TTL, replica_id="replica-a")
    book = SendFinishesDuringRenew(store)
    ownership.book = book
    lost: list[Lease] = []
    ownership.watch(nothing_to_take_over, lost.append)
    try:
        finished = await ownership.acquire("R1")
        running = await ownership.acquire("R2")
        assert finished is not None
        assert running is not None
        book.ownership, book.finishing = ownership, finished
        with caplog.at_level(logging.WARNING, logger="bot.send.ownership"):
            await ownership.tick()
        assert lost == []  # before the fix: [R1], and the runner cancelled R1's task
        assert "lost the lease" not in caplog.text
        assert await store.lease_book().holds(running)  # the other one was renewed
    finally:
        await ownership.close()


async def test_work_adopted_again_after_a_release_gets_a_new_fencing_token(
    store: PostgresStore, clock: Clock
) -> None:
    """A replica released a group with a request left unfinished (an internal error cut it
    off); its watcher adopts it later. The old lease, still known to that replica's earlier
    writers, must not pass the fence again."""
    book = store.lease_book()
    await store.create_request(new_request("R1"), recipients("R1", 2), None)
    old = await book.acquire("R1", "replica-a", TTL)
    assert old is not None
    await store.set_state("R1", RequestState.SENDING)
    await book.release(old)
    clock.now += TTL * 2
    [adopted] = await book.claim_stale("replica-a", TTL, grace=TTL)
    assert (adopted.group_id, adopted.owner) == ("R1", "replica-a")
    assert adopted != old  # before the fix: the very same (group, owner, epoch 1)
    assert not await book.holds(old)
    assert await book.holds(adopted)
