"""A slow ``usergroups.users.list`` never delays an ack or a modal past Slack's 3 s: the modal
opens as "checking…", a submission is acked first and decided after, and the person is told.

Issue 7: with the lookup taking 8 s, a modal submission got 404 after 3.02 s and was sent anyway,
and the modal opened after its trigger had expired. The sandbox holds the lookup (no sleeps):
the ack and views.open must happen while it is still held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from bridge_sandbox.slack import payloads

from bot.slack import ids
from bot.slack.listeners.pending import CHECKING_TEXT
from tests.bot.bridge_kit import BOB, CAROL, FAST, Bridge, start_bridge
from tests.bot.slack_steps import deliveries, send

LOOKUP = "usergroups.users.list"


@pytest.fixture
async def slow(tmp_path: Path) -> AsyncIterator[Bridge]:
    """A bridge whose directory asks Slack every time (no cache to hide a slow answer)."""
    running = await start_bridge(tmp_path, options=replace(FAST, directory_ttl=0))
    try:
        await running.slack.wait_for(lambda s: s.calls_to(LOOKUP))  # the start-up warm is done
        yield running
    finally:
        running.slack.release(LOOKUP)
        await running.world.close()


async def open_modal_while_held(bridge: Bridge) -> dict[str, Any]:
    bridge.slack.hold(LOOKUP)
    status, _ = await bridge.as_user(BOB).slash("/send", "")
    assert status == 200
    [opened] = await bridge.slack.wait_for(lambda s: s.calls_to("views.open"))
    assert opened.error is None  # opened while the lookup was still held: the trigger was fresh
    checking = bridge.slack.last_view()
    assert checking is not None
    assert CHECKING_TEXT in repr(checking["blocks"])
    bridge.slack.release(LOOKUP)

    def filled(state: Any) -> dict[str, Any] | None:
        view = state.last_view()
        return view if view and view["callback_id"] == ids.SEND_MODAL else None

    view = await bridge.slack.wait_for(filled)
    assert view["id"] == checking["id"]  # the same modal, updated
    return view


async def test_the_modal_opens_at_once_and_fills_in_when_groups_are_known(slow: Bridge) -> None:
    view = await open_modal_while_held(slow)
    assert "oncall-sms" in repr(view["blocks"])  # Bob may use it through his user group


async def test_a_submission_is_acked_before_the_lookup_and_sent_after(slow: Bridge) -> None:
    view = await open_modal_while_held(slow)
    slow.slack.hold(LOOKUP)
    body = payloads.view_submission(slow.slack, view["id"], {ids.TEXT_BLOCK: "Disk full"}, user=BOB)
    assert await send(slow, body) == 200  # acked while the lookup is held
    assert deliveries(slow) == []  # nothing is sent before the sender is known
    slow.slack.release(LOOKUP)
    await slow.slack.wait_for(lambda s: len(deliveries(slow)) == 2)
    dm = await slow.slack.wait_for(lambda s: s.messages.get(BOB))
    assert dm[0].text.startswith("Checked and queued as R")
    await slow.idle()


async def test_a_submission_by_someone_not_allowed_is_refused_after_the_ack(slow: Bridge) -> None:
    view = await open_modal_while_held(slow)
    slow.slack.hold(LOOKUP)
    values = {ids.TEXT_BLOCK: "Disk full"}
    body = payloads.view_submission(slow.slack, view["id"], values, user=CAROL)
    assert await send(slow, body) == 200
    slow.slack.release(LOOKUP)
    dm = await slow.slack.wait_for(lambda s: s.messages.get(CAROL))
    assert "not allowed" in dm[0].text
    assert dm[0].text.endswith("Nothing was sent.")
    await slow.idle()
    assert deliveries(slow) == []
