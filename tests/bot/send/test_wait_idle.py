"""Waiting for background work ends when the work has ended, on every supported Python.

Why: a finished task leaves the sets that track it in a done callback, one turn of the event loop
later, and from Python 3.12 ``asyncio.gather`` of tasks already finished returns without that
turn. ``wait_idle`` looped until its set was empty, so on 3.12+ it spun at full CPU, past any
timeout (the demo hung in the suite on 3.13). These tests catch that moment on purpose.
"""

from __future__ import annotations

import asyncio

from bot.report import Group
from tests.bot.bridge_kit import Bridge


async def test_wait_idle_returns_when_a_send_ended_in_this_very_turn(bridge: Bridge) -> None:
    service = bridge.runtime.service
    live = service._runner.live

    async def ends_at_once() -> None:
        return None

    task = asyncio.create_task(ends_at_once())
    live.add(Group(group_id="G-idle", request_ids=("R-idle",), channel=None), task)
    await asyncio.sleep(0)  # the task ends in this turn; its done callback runs in the next
    assert task.done()
    assert task in live.tasks  # the moment that spun

    async with asyncio.timeout(10):
        await service.wait_idle()
    await asyncio.sleep(0)
    assert not live.tasks


async def test_drain_returns_when_a_refresh_was_cancelled_before_it_began(bridge: Bridge) -> None:
    reporter = bridge.runtime.service.reporter
    assert reporter is not None
    group = Group(group_id="G-drain", request_ids=("R-drain",), channel=None)
    await reporter.refresh_soon(group)
    [pending] = reporter._pending.values()
    pending.cancel()  # never runs, so never removes itself

    async with asyncio.timeout(10):
        await reporter.drain()
    assert pending.cancelled()
