"""SharedPacer's slot maths on a clock the test drives: replicas sharing one account's pace.

The store side here is ``ModelClaimer``, the same maths as ``bot/store/postgres_pacing.py`` on the
test's clock (the PostgreSQL tests in ``test_pacer_postgres.py`` hold the real one to it), so
every figure below is exact: no wall clock, no sleeps.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from bot.pacer import SharedPacer, interval_for
from providers.base import RateLimited

T = TypeVar("T")
RATE = 300  # per minute: the documented TalkNTalk limit
INTERVAL = interval_for(RATE)


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
        self.reads = 0

    async def claim_slots(self, account: str, count: int, interval: float) -> tuple[float, float]:
        now = self.clock.time()
        first = max(self.next_slot.get(account, now), now, self.paused_until.get(account, now))
        self.next_slot[account] = first + count * interval
        self.claims.append(count)
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
