"""Leases on sends in PostgreSQL: one owner at a time, takeover only once a lease lapsed (one
statement, however many replicas try at once), and the fence — a replica whose lease was taken
over can neither claim an attempt nor write its report. Time is the stores' injected clock.

(SQLite has no lease book: one process owns its file, and ``bot.send.ownership.LocalBook``
grants every lease in memory.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.store.base import RequestState
from bot.store.leases import Lease, LeaseLost
from bot.store.postgres import PostgresStore
from tests.bot.store_backends import PostgresBackend
from tests.bot.store_fixtures import Clock, new_request, recipients

TTL = timedelta(seconds=30)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def stores(
    postgres_backend: PostgresBackend, clock: Clock
) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two replicas' stores on one database, sharing one clock."""
    async with (
        postgres_backend.store(clock=clock) as a,
        postgres_backend.store(clock=clock) as b,
    ):
        assert isinstance(a, PostgresStore)
        assert isinstance(b, PostgresStore)
        yield a, b


async def test_one_owner_until_the_lease_lapses_then_exactly_one_taker(
    stores: tuple[PostgresStore, PostgresStore], clock: Clock
) -> None:
    a, b = stores
    await a.create_request(new_request("R1"), recipients("R1", 3), None)
    lease = await a.lease_book().acquire("R1", "replica-a", TTL)
    assert lease == Lease("R1", "replica-a", 1)
    assert await b.lease_book().acquire("R1", "replica-b", TTL) is None
    clock.now += TTL - timedelta(seconds=1)
    assert await b.lease_book().claim_stale("replica-b", TTL, grace=TTL) == []
    assert await a.lease_book().renew([lease], TTL) == {"R1"}  # renewed: good for TTL again
    clock.now += TTL - timedelta(seconds=1)
    assert await b.lease_book().claim_stale("replica-b", TTL, grace=TTL) == []

    clock.now += timedelta(seconds=2)  # lapsed; three replicas try at once
    claims = await asyncio.gather(
        *(s.lease_book().claim_stale(name, TTL, grace=TTL) for s, name in [(a, "x"), (b, "y")]),
        b.lease_book().claim_stale("z", TTL, grace=TTL),
    )
    won = [c for claim in claims for c in claim]
    assert [w.epoch for w in won] == [2]
    assert await a.lease_book().renew([lease], TTL) == set()  # the old owner learns it lost
    assert not await a.lease_book().holds(lease)


async def test_a_taken_over_owner_cannot_claim_an_attempt_or_write_its_report(
    stores: tuple[PostgresStore, PostgresStore], clock: Clock
) -> None:
    a, b = stores
    to = recipients("R1", 4)
    await a.create_request(new_request("R1"), to, None)
    old = await a.lease_book().acquire("R1", "replica-a", TTL)
    assert old is not None
    await a.lease_book().attempt_started(old, "R1", to[:1], 1)  # while it holds the lease
    clock.now += TTL * 2
    (new,) = await b.lease_book().claim_stale("replica-b", TTL, grace=TTL)

    with pytest.raises(LeaseLost):
        await a.lease_book().attempt_started(old, "R1", to[1:], 1)
    with pytest.raises(LeaseLost):
        await a.lease_book().set_report(old, "R1", "C0INCIDENTS", "1.000100")
    with pytest.raises(LeaseLost):
        await a.lease_book().mark_reported(old, ["R1"])
    statuses = [r.status.value for r in await b.recipients("R1")]
    assert statuses == ["in_flight", "pending", "pending", "pending"]  # nothing written
    record = await b.get_request("R1")
    assert record is not None
    assert record.report_ts is None
    assert not record.reported

    await b.lease_book().attempt_started(new, "R1", to[1:], 1)  # the new owner may
    await b.lease_book().set_report(new, "R1", "C0INCIDENTS", "1.000100")
    assert [r.status.value for r in await b.recipients("R1")] == ["in_flight"] * 4


async def test_work_nobody_leased_is_adopted_only_after_the_grace(
    stores: tuple[PostgresStore, PostgresStore], clock: Clock
) -> None:
    """A replica that died between recording a send and leasing it: the send is adopted once
    ``grace`` has passed since it was recorded, never while its creator may still lease it;
    held and finished-and-reported sends are nobody's work."""
    a, b = stores
    await a.create_request(new_request("R1"), recipients("R1", 2), None)
    await a.create_request(new_request("R2", state=RequestState.HELD), recipients("R2", 2), None)
    await a.create_request(new_request("R3"), recipients("R3", 2), None)
    await a.set_state("R3", RequestState.DONE)
    await a.mark_reported(["R3"])
    assert await b.lease_book().claim_stale("replica-b", TTL, grace=TTL) == []
    clock.now += TTL * 2
    claimed = await b.lease_book().claim_stale("replica-b", TTL, grace=TTL)
    assert [(c.group_id, c.owner) for c in claimed] == [("R1", "replica-b")]
    assert await a.lease_book().acquire("R1", "replica-a", TTL) is None  # too late for it
