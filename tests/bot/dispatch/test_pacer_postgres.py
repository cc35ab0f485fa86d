"""Three replicas pacing one account through PostgreSQL: three pools, as three processes have.

The slots are checked, not the moments requests went out: with a one-minute interval every slot
must fall on its own point of one lattice (no two on one, none skipped), whatever the machine's
load, so these assert the schedule exactly without measuring wall-clock windows.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack

import pytest

from bot.pacer import SharedPacer
from bot.store.postgres import PostgresStore
from providers.base import RateLimited
from tests.bot.store_backends import PostgresBackend

INTERVAL = 60.0  # s: far above any jitter, so each slot rounds to exactly one lattice point


class RecordingClock:
    """Real time; a sleep records where it would end and returns at once (the slot is the
    finding, and nobody should wait minutes for it)."""

    def __init__(self) -> None:
        self.slots: list[float] = []

    def time(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        self.slots.append(self.time() + seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def stores(postgres_backend: PostgresBackend) -> AsyncIterator[list[PostgresStore]]:
    """Three stores on one database, each with its own pool: three replicas."""
    async with AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(postgres_backend.store()) for _ in range(3)]
        assert all(isinstance(store, PostgresStore) for store in opened)
        yield [store for store in opened if isinstance(store, PostgresStore)]


def assert_one_slot_per_lattice_point(slots: Sequence[float]) -> None:
    """Sorted, the slots are INTERVAL apart (to within a second): none shared, none skipped."""
    ordered = sorted(slots)
    points = [round((slot - ordered[0]) / INTERVAL) for slot in ordered]
    assert points == list(range(len(ordered)))
    for slot, point in zip(ordered, points, strict=True):
        assert abs(slot - ordered[0] - point * INTERVAL) < 1.0
    # Hence at most one request in any window shorter than INTERVAL: the rate is never exceeded.


async def test_the_pacing_table_is_a_migration(postgres_backend: PostgresBackend) -> None:
    async with postgres_backend.store():
        pass
    assert await postgres_backend.columns("account_pacing") == {
        "account",
        "next_slot_at",
        "paused_until",
    }


async def test_concurrent_claims_from_three_pools_never_share_a_slot(
    stores: list[PostgresStore],
) -> None:
    rng = random.Random(9)

    async def replica(store: PostgresStore) -> list[float]:
        claimer = store.slot_claimer()
        slots: list[float] = []
        for _ in range(8):
            count = rng.randint(1, 3)
            first_in, paused_for = await claimer.claim_slots("tnt", count, INTERVAL)
            now = time.monotonic()
            assert paused_for == 0.0
            slots += [now + first_in + i * INTERVAL for i in range(count)]
        return slots

    claimed = await asyncio.gather(*(replica(store) for store in stores))
    assert_one_slot_per_lattice_point([slot for slots in claimed for slot in slots])
    # Another account has a pace of its own.
    first_in, _ = await stores[0].slot_claimer().claim_slots("ak", 1, INTERVAL)
    assert first_in < 1.0


async def test_three_pacers_schedule_one_request_per_slot(stores: list[PostgresStore]) -> None:
    clock = RecordingClock()
    # 1/min with no headroom: exactly INTERVAL apart.
    pacers = [
        SharedPacer("tnt", 1, store.slot_claimer(), clock=clock, headroom=1.0) for store in stores
    ]
    assert pacers[0].interval == INTERVAL
    await asyncio.gather(*(pacer.acquire() for pacer in pacers for _ in range(8)))
    # Each first request goes at once (no sleep); the other 23 sleep to their slots.
    assert len(clock.slots) == 3 * 8 - 1
    assert_one_slot_per_lattice_point([min(clock.slots) - INTERVAL, *clock.slots])
    # Requests waiting together claimed together: far fewer statements than requests.
    assert sum(pacer.statements for pacer in pacers) < 3 * 8
    for pacer in pacers:
        await pacer.aclose()


async def test_a_429_in_one_replica_pauses_the_others(stores: list[PostgresStore]) -> None:
    first, second = (
        SharedPacer("tnt", 300, store.slot_claimer(), clock=RecordingClock())
        for store in stores[:2]
    )
    first.pause(30.0)
    await first.aclose()  # the pause is in the database now
    with pytest.raises(RateLimited) as refused:
        await second.acquire(max_pause=5.0)
    assert refused.value.retry_after is not None
    assert 25.0 < refused.value.retry_after <= 30.0
    # A slot claimed now lies after the pause, whoever claims it (how a replica whose view of
    # the pause is still fresh keeps out of it anyway).
    first_in, paused_for = await stores[2].slot_claimer().claim_slots("tnt", 1, 0.2)
    assert 25.0 < paused_for <= 30.0
    assert first_in >= paused_for


async def test_two_pacers_with_reserves_keep_slots_apart_in_few_statements(
    stores: list[PostgresStore],
) -> None:
    # A reserve of ten slots: "a high rate" is one whose reserve holds many slots; the slots
    # stay a minute apart so each still rounds to exactly one lattice point on a loaded machine.
    clocks = [RecordingClock(), RecordingClock()]
    pacers = [
        SharedPacer(
            "tnt", 1, store.slot_claimer(), clock=clock, headroom=1.0, reserve=10 * INTERVAL
        )
        for store, clock in zip(stores, clocks, strict=False)
    ]
    assert all(pacer.reserve_slots == 10 for pacer in pacers)

    async def traffic(pacer: SharedPacer) -> None:
        await asyncio.gather(*(pacer.acquire() for _ in range(20)))  # claims 20 + 10
        for _ in range(10):  # from the reserve, no round trip
            await pacer.acquire()
        await asyncio.gather(*(pacer.acquire() for _ in range(15)))  # claims 15 + 10

    await asyncio.gather(*(traffic(pacer) for pacer in pacers))
    slots = sorted(slot for clock in clocks for slot in clock.slots)
    # The very first request went at once (no sleep), on the point before every other.
    assert len(slots) == 2 * 45 - 1
    slots.insert(0, slots[0] - INTERVAL)
    points = [round((slot - slots[0]) / INTERVAL) for slot in slots]
    assert points == sorted(set(points))  # one request per point, however the two interleave
    for slot, point in zip(slots, points, strict=True):
        assert abs(slot - slots[0] - point * INTERVAL) < 1.0
    # Two claims each (and a pause read or two) for 90 requests.
    assert sum(pacer.statements for pacer in pacers) <= 8
    for pacer in pacers:
        await pacer.aclose()
