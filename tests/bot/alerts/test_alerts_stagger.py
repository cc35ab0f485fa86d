"""``bot.alerts.stagger``: new groups' follow-ups run a few at a time, and one stuck on a slow
provider gives its place back after ``hold`` instead of keeping the next page waiting."""

from __future__ import annotations

import asyncio

from bot.alerts.stagger import Stagger


async def test_a_few_at_a_time_the_next_when_one_ends() -> None:
    stagger = Stagger(2, hold=3600)  # held as long as they run
    release = asyncio.Event()
    running: list[int] = []

    async def follow_up(n: int) -> None:
        async with stagger.place():
            running.append(n)
            await release.wait()

    tasks = [asyncio.ensure_future(follow_up(n)) for n in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert running == [0, 1]  # the third waits for a place
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert running == [0, 1, 2]


async def test_a_stuck_follow_up_gives_its_place_back_after_hold() -> None:
    stagger = Stagger(1, hold=0.01)
    stuck = asyncio.Event()  # never set while the second runs: a provider that hangs
    order: list[str] = []

    async def slow() -> None:
        async with stagger.place():
            order.append("slow started")
            await stuck.wait()
            order.append("slow ended")

    async def next_page() -> None:
        async with stagger.place():
            order.append("next started")

    first = asyncio.ensure_future(slow())
    await asyncio.sleep(0)
    await asyncio.wait_for(next_page(), 10)  # does not wait for the stuck one
    assert order == ["slow started", "next started"]
    stuck.set()
    await asyncio.wait_for(first, 10)
    assert order[-1] == "slow ended"
    async with stagger.place():  # one place still, not two: each gives its place back once
        assert stagger._places.locked()
