"""SharedPacer's slot maths on a clock the test drives: replicas sharing one account's pace.

The store side here is ``ModelClaimer``, the same maths as ``bot/store/postgres_pacing.py`` on the
test's clock (the PostgreSQL tests in ``test_pacer_postgres.py`` hold the real one to it), so
every figure below is exact: no wall clock, no sleeps.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from bot.pacer import MAX_RESERVE_SLOTS, SLOT_RESERVE, SharedPacer, interval_for
from providers.base import RateLimited

T = TypeVar("T")
RATE = 300  # per minute: the documented TalkNTalk limit
INTERVAL = interval_for(RATE)
HIGH_RATE = 1_000_000  # per minute: slots 62 us apart, so a 50 ms reserve holds 808 of them
HIGH_INTERVAL = interval_for(HIGH_RATE)


class StepClock:
    """Virtual time for several sleepers at once: ``run`` wakes them in order of their ends."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), done))
        await done

    async def run(self, work: Awaitable[T]) -> T:
        """Await ``work``, moving time to the next sleeper's end whenever everything waits."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(50):  # let every ready coroutine reach its next sleep
                await asyncio.sleep(0)
            if task.done() or not self._sleepers:
                continue
            at, _, done = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            done.set_result(None)
        return task.result()


class ModelClaimer:
    """The store's slot maths on the test's clock, counting the statements it answers."""

    def __init__(self, clock: StepClock) -> None:
        self.clock = clock
        self.next_slot: dict[str, float] = {}
        self.paused_until: dict[str, float] = {}
        self.claims: list[int] = []
        self.spans: list[tuple[float, float]] = []  # each claim's [first slot, its end)
        self.reads = 0

    async def claim_slots(self, account: str, count: int, interval: float) -> tuple[float, float]:
        now = self.clock.time()
        first = max(self.next_slot.get(account, now), now, self.paused_until.get(account, now))
        self.next_slot[account] = first + count * interval
        self.claims.append(count)
        self.spans.append((first, first + count * interval))
        return first - now, await self._left(account)

    async def pause_account(self, account: str, seconds: float) -> float:
        until = max(self.paused_until.get(account, 0.0), self.clock.time() + seconds)
        self.paused_until[account] = until
        return await self._left(account)

    async def account_pause(self, account: str) -> float:
        self.reads += 1
        return await self._left(account)

    async def _left(self, account: str) -> float:
        await asyncio.sleep(0)  # a round trip is a suspension point
        return max(0.0, self.paused_until.get(account, 0.0) - self.clock.time())


def replicas(clock: StepClock, claimer: ModelClaimer, n: int = 3) -> list[SharedPacer]:
    return [SharedPacer("tnt", RATE, claimer, clock=clock) for _ in range(n)]


async def fire_times(clock: StepClock, pacer: SharedPacer, n: int) -> list[float]:
    async def one() -> float:
        await pacer.acquire()
        return clock.time()

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def test_three_replicas_share_one_pace_and_claim_in_batches() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    a, b, c = replicas(clock, claimer)
    times = await clock.run(
        asyncio.gather(fire_times(clock, a, 10), fire_times(clock, b, 10), fire_times(clock, c, 10))
    )
    fired = sorted(t for replica in times for t in replica)
    gaps = [later - earlier for earlier, later in itertools.pairwise(fired)]
    assert gaps == pytest.approx([INTERVAL] * 29)  # one request per slot, none doubled up
    assert fired[-1] - fired[0] == pytest.approx(29 * 60 / (RATE * 0.97))
    # The ten waiting requests of each replica claimed their slots together.
    assert claimer.claims == [10, 10, 10]


async def test_an_idle_account_banks_no_burst() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    [pacer] = replicas(clock, claimer, 1)
    await clock.run(fire_times(clock, pacer, 1))
    clock.now += 60  # a quiet minute
    fired = await clock.run(fire_times(clock, pacer, 3))
    assert [t - clock.now for t in fired] == pytest.approx([-2 * INTERVAL, -INTERVAL, 0])


async def test_a_429_in_one_replica_pauses_the_others() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    a, b = replicas(clock, claimer, 2)
    await clock.run(fire_times(clock, b, 1))  # b has heard from the store: no pause
    a.pause(5.0)
    await a.aclose()  # the pause is in the store
    clock.now += b.recheck + 0.01  # b's view is now stale, so it asks again
    with pytest.raises(RateLimited) as refused:
        await b.acquire(max_pause=1.0)
    assert refused.value.retry_after == pytest.approx(5.0 - b.recheck - 0.01)
    paused_at = clock.now
    [fired] = await clock.run(fire_times(clock, b, 1))
    assert fired >= paused_at + 5.0 - b.recheck - 0.01


async def test_a_slot_claimed_before_a_pause_is_not_used_inside_it() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    a, b = replicas(clock, claimer, 2)
    # b queues 20 requests (slots up to 20 intervals ahead); a meets a 429 at once.
    waiting = asyncio.ensure_future(fire_times(clock, b, 20))
    await clock.run(asyncio.sleep(0))
    a.pause(30.0)
    await a.aclose()
    paused_until = clock.now + 30.0
    fired = await clock.run(waiting)
    # What went out before b's view of the pause could be stale is all that is inside it.
    inside = [t for t in fired if min(fired) + b.recheck < t < paused_until]
    assert inside == []
    after = sorted(t for t in fired if t >= paused_until)
    gaps = [later - earlier for earlier, later in itertools.pairwise(after)]
    assert all(gap >= INTERVAL - 1e-9 for gap in gaps)


async def test_an_unlimited_account_claims_nothing_and_reads_the_pause_sparingly() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    pacer = SharedPacer("ak", None, claimer, clock=clock)
    await clock.run(fire_times(clock, pacer, 100))
    assert claimer.claims == []
    assert claimer.reads == 1  # one read answered all hundred (time stood still)
    clock.now += pacer.recheck + 0.01
    await clock.run(fire_times(clock, pacer, 1))
    assert claimer.reads == 2


# -- the reserve: slots claimed ahead, granted here without a round trip ----------------------


def assert_spaced(times: list[float], interval: float) -> None:
    """Sorted, no two of ``times`` are closer than ``interval``: the rate is never exceeded."""
    ordered = sorted(times)
    gaps = [later - earlier for earlier, later in itertools.pairwise(ordered)]
    assert min(gaps, default=interval) >= interval - 1e-9


def assert_inside_claimed_spans(times: list[float], claimer: ModelClaimer, interval: float) -> None:
    """Each time starts a slot that ends inside one claim's span, where no other replica's
    slot is."""
    for t in times:
        assert any(first - 1e-9 <= t <= end - interval + 1e-9 for first, end in claimer.spans), t


async def test_at_the_documented_rate_there_is_no_reserve() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    [pacer] = replicas(clock, claimer, 1)
    assert pacer.reserve_slots == 0  # 50 ms is less than one 206 ms slot
    fired = [t for _ in range(4) for t in await clock.run(fire_times(clock, pacer, 1))]
    assert claimer.claims == [1, 1, 1, 1]  # one round trip per request, as before the reserve
    assert [t - fired[0] for t in fired] == pytest.approx([0, INTERVAL, 2 * INTERVAL, 3 * INTERVAL])


def test_the_reserve_is_a_sane_number_of_slots() -> None:
    claimer = ModelClaimer(StepClock())
    high = SharedPacer("ak", HIGH_RATE, claimer)
    assert high.reserve_slots == math.floor(SLOT_RESERVE / HIGH_INTERVAL) == 808
    assert SharedPacer("ak", 10**12, claimer).reserve_slots == MAX_RESERVE_SLOTS
    assert SharedPacer("ak", HIGH_RATE, claimer, reserve=math.inf).reserve_slots == (
        MAX_RESERVE_SLOTS
    )
    assert SharedPacer("ak", HIGH_RATE, claimer, reserve=0).reserve_slots == 0
    assert SharedPacer("ak", None, claimer).reserve_slots == 0
    with pytest.raises(ValueError, match="zero or more seconds"):
        SharedPacer("ak", HIGH_RATE, claimer, reserve=-1.0)


async def test_at_a_high_rate_requests_in_a_row_claim_once_per_reserve_window() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    pacer = SharedPacer("ak", HIGH_RATE, claimer, clock=clock)
    per_claim = 1 + pacer.reserve_slots

    async def in_a_row(n: int) -> list[float]:
        return [t for _ in range(n) for t in await fire_times(clock, pacer, 1)]

    fired = await clock.run(in_a_row(2000))
    assert claimer.claims == [per_claim] * math.ceil(2000 / per_claim)
    starts = [first for first, _ in claimer.spans]
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx(
        [per_claim * HIGH_INTERVAL] * (len(starts) - 1)  # just over SLOT_RESERVE: 50.04 ms
    )
    assert_spaced(fired, HIGH_INTERVAL)
    assert fired[-1] - fired[0] == pytest.approx(1999 * HIGH_INTERVAL)  # the pace, not less
    assert pacer.statements == len(claimer.claims) + claimer.reads


async def test_requests_waiting_together_are_granted_from_the_reserve_their_claim_took() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    pacer = SharedPacer("ak", HIGH_RATE, claimer, clock=clock)
    first = await clock.run(fire_times(clock, pacer, 100))
    assert claimer.claims == [100 + pacer.reserve_slots]
    # The next 808 at once fit the reserve: no round trip. One more claims again.
    second = await clock.run(fire_times(clock, pacer, pacer.reserve_slots))
    assert len(claimer.claims) == 1
    third = await clock.run(fire_times(clock, pacer, 1))
    assert claimer.claims == [100 + pacer.reserve_slots, 1 + pacer.reserve_slots]
    assert_spaced(first + second + third, HIGH_INTERVAL)
    assert sorted(first + second) == pytest.approx(
        [claimer.spans[0][0] + i * HIGH_INTERVAL for i in range(100 + pacer.reserve_slots)]
    )


async def test_replicas_with_reserves_never_go_closer_than_one_interval() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    rng = random.Random(7)
    pacers = [SharedPacer("ak", HIGH_RATE, claimer, clock=clock) for _ in range(2)]

    async def traffic(pacer: SharedPacer) -> list[float]:
        fired: list[float] = []
        for _ in range(40):  # bursts, with pauses shorter and longer than the reserve
            fired += await fire_times(clock, pacer, rng.randint(1, 60))
            await clock.sleep(rng.choice([0.0, rng.uniform(0.0, 0.1)]))
        return fired

    fired = await clock.run(asyncio.gather(*(traffic(pacer) for pacer in pacers)))
    everything = [t for times in fired for t in times]
    assert_spaced(everything, HIGH_INTERVAL)
    assert_inside_claimed_spans(everything, claimer, HIGH_INTERVAL)
    assert len(claimer.claims) < len(everything) / 10
    assert sum(pacer.statements for pacer in pacers) == len(claimer.claims) + claimer.reads


async def test_an_expired_reserve_is_not_used() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    pacer = SharedPacer("ak", HIGH_RATE, claimer, clock=clock)
    await clock.run(fire_times(clock, pacer, 1))
    clock.now += 0.03  # idle, but inside the reserve: a request goes at once, from it
    assert await clock.run(fire_times(clock, pacer, 1)) == [clock.now]
    assert len(claimer.claims) == 1
    clock.now += SLOT_RESERVE  # the reserve is in the past: claim again
    assert await clock.run(fire_times(clock, pacer, 1)) == [clock.now]
    assert len(claimer.claims) == 2
    assert claimer.spans[1][0] == clock.now


async def test_a_pause_heard_from_the_store_drops_the_reserve() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    # a's reserve (1 s) outlasts b's 429 pause (0.5 s) and a's view of the pause (0.25 s).
    a = SharedPacer("ak", HIGH_RATE, claimer, clock=clock, reserve=1.0)
    b = SharedPacer("ak", HIGH_RATE, claimer, clock=clock)
    [started] = await clock.run(fire_times(clock, a, 1))
    b.pause(0.5)
    await b.aclose()
    paused_until = started + 0.5
    clock.now += a.recheck + 0.01  # a's view is stale: its next request reads the pause
    fired = await clock.run(fire_times(clock, a, 20))
    assert min(fired) >= paused_until  # nothing inside the pause
    # The reserve was dropped: those 20 claimed again, after the span a had given up.
    assert len(claimer.claims) == 2
    assert min(fired) == pytest.approx(claimer.spans[0][1])
    assert_spaced(fired, HIGH_INTERVAL)


async def test_a_reserve_granted_before_a_pause_is_not_used_inside_it() -> None:
    clock = StepClock()
    claimer = ModelClaimer(clock)
    a = SharedPacer("ak", HIGH_RATE, claimer, clock=clock, reserve=1.0)
    b = SharedPacer("ak", HIGH_RATE, claimer, clock=clock)
    # a's 2000 requests are granted moments up to 124 ms ahead, from one claim; b meets a 429.
    waiting = asyncio.ensure_future(fire_times(clock, a, 2000))
    await clock.run(asyncio.sleep(0))
    assert len(claimer.claims) == 1
    b.pause(0.5)
    await b.aclose()
    paused_until = clock.now + 0.5
    fired = await clock.run(waiting)
    inside = [t for t in fired if min(fired) + a.recheck < t < paused_until]
    assert inside == []
    assert_spaced(fired, HIGH_INTERVAL)
    assert_inside_claimed_spans(fired, claimer, HIGH_INTERVAL)
