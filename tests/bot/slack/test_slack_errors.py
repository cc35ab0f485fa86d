"""A listener fails unexpectedly: logged with context; the person told, with no trace or secret."""

from __future__ import annotations

import logging

import pytest

from bot.slack import ids
from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import nothing_sent, slash


async def test_a_failing_slack_call_tells_the_user_without_details(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    bridge.slack.fail_next("views.open", "internal_error", status=200, retry_after=None)
    with caplog.at_level(logging.ERROR, logger="bot.listeners"):
        reply = await slash(bridge, "")
    assert reply.text.startswith("Something went wrong in the bridge (reference `")
    assert "/send history" in reply.text
    for secret in ("xoxb", "Traceback", "internal_error", "SlackApiError"):
        assert secret not in reply.text
    [record] = [r for r in caplog.records if r.name == "bot.listeners"]
    assert record.__dict__["user"] == "U0ALICE001"
    assert record.__dict__["command"] == "/send"
    assert record.__dict__["ref"] in reply.text
    await nothing_sent(bridge)


async def test_a_failing_shortcut_tells_the_user_by_direct_message(bridge: Bridge) -> None:
    bridge.slack.fail_next("views.open", "internal_error", status=200, retry_after=None)
    status, _ = await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
    assert status == 200
    dm = await bridge.slack.wait_for(lambda s: s.messages.get("U0ALICE001"))
    assert dm[0].text.startswith("Something went wrong in the bridge")
