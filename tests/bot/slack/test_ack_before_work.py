"""Slack gets the ack's HTTP response while the work after the ack is still running.

Why: the app runs with bolt's ``process_before_response=True`` (answered as soon as the listener
returns, not at bolt's next 10 ms poll), which holds only while every listener returns right
after its ack and leaves its work to a task of its own. Here the work is held at the sandbox
Slack (its call is made and recorded, its answer kept back), through the real server: the ack
must arrive while the answer is still held and the work has not answered anyone. A listener
awaiting its work inline answers only once the work has ended: here when the bridge's Slack
call gives up (its own 10 s timeout) and the work reports that failure to the person, which the
checks below see (and the bounded wait fails rather than hangs if nothing gives up).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.slack import ids
from tests.bot.bridge_kit import BOB, FAST, Bridge, start_bridge
from tests.bot.slack_steps import deliveries

LOOKUP = "usergroups.users.list"
DEADLOCK_GUARD = 30.0  # seconds; only reached when the ack waits for the held work


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    """Bob may send through his user group, and the directory asks Slack every time."""
    running = await start_bridge(tmp_path, options=replace(FAST, directory_ttl=0))
    try:
        await running.slack.wait_for(lambda s: s.calls_to(LOOKUP))  # the start-up warm is done
        yield running
    finally:
        for method in (LOOKUP, "views.open"):
            running.slack.release_reply(method)
        await running.world.close()


async def acked_while_held(bridge: Bridge, method: str, text: str) -> tuple[int, Any]:
    """``/send text`` as Bob while ``method``'s answers are held; the ack, got while held."""
    calls_before = len(bridge.slack.calls_to(method))
    held = bridge.slack.hold_reply(method)
    command = asyncio.create_task(bridge.as_user(BOB).slash("/send", text))
    # The work has reached the held call: it cannot finish until the test lets it.
    await bridge.slack.wait_for(lambda s: len(s.calls_to(method)) > calls_before)
    try:
        status, ack = await asyncio.wait_for(command, DEADLOCK_GUARD)
    except TimeoutError:
        pytest.fail(f"the ack waited for the work after it ({method} held)")
    assert not held.is_set()  # answered while the work was still held
    assert bridge.slack.responses == []  # and before the work answered (or failed) at all
    return status, ack


async def test_a_send_command_is_acked_before_its_work_finishes(bridge: Bridge) -> None:
    status, _ = await acked_while_held(bridge, LOOKUP, "oncall-sms Disk full on db-1")
    assert status == 200
    assert deliveries(bridge) == []
    bridge.slack.release_reply(LOOKUP)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    [reply] = await bridge.slack.wait_for(lambda s: s.ephemerals)
    assert reply.text.startswith("Queued R")
    await bridge.idle()


async def test_an_empty_command_is_acked_before_its_modal_opens(bridge: Bridge) -> None:
    status, _ = await acked_while_held(bridge, "views.open", "")
    assert status == 200
    bridge.slack.release_reply("views.open")
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    assert view["callback_id"] == ids.SEND_MODAL
    await bridge.idle()
    assert bridge.slack.responses == []  # the modal opened: no error to tell anyone
