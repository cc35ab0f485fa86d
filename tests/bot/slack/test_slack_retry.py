"""Retry buttons end to end: only the failed are sent again; unknowns only on their own button."""

from __future__ import annotations

from collections import Counter

from bridge_sandbox.slack import payloads
from bridge_sandbox.slack.records import PostedMessage

from bot.slack import ids
from tests.bot.bridge_kit import ALICE, CAROL, INCIDENTS, Bridge
from tests.bot.slack_steps import deliveries, send, slash

NUMBERS = {"254712345678", "254798765432"}


async def failure_message(bridge: Bridge, action_id: str) -> PostedMessage:
    return await bridge.slack.wait_for_message(INCIDENTS, action_id)


async def send_with_one_failed(bridge: Bridge) -> str:
    """oncall-sms to its 2 numbers with credit for one: one sent, one failed (402)."""
    bridge.emulators.talkntalk.balance = 1
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.idle()
    [(sent_to, _)] = Counter(deliveries(bridge)).items()
    bridge.emulators.talkntalk.balance = 1000
    return sent_to


async def test_retry_failed_sends_only_to_the_failed_recipients(bridge: Bridge) -> None:
    sent_to = await send_with_one_failed(bridge)
    failed_to = (NUMBERS - {sent_to}).pop()
    message = await failure_message(bridge, ids.RETRY_FAILED)
    assert message.thread_ts is not None  # listed in the thread
    status, _ = await bridge.user.click(message.ts, ids.RETRY_FAILED)
    assert status == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    assert Counter(deliveries(bridge)) == {sent_to: 1, failed_to: 1}


async def test_retry_failed_clicked_twice_sends_once(bridge: Bridge) -> None:
    await send_with_one_failed(bridge)
    message = await failure_message(bridge, ids.RETRY_FAILED)
    before = len(bridge.slack.responses)
    # A double click: both clicks are on the message as it was, before the bridge updates it.
    first, second = (
        payloads.block_actions_message(
            bridge.slack, message.ts, ids.RETRY_FAILED, channel=INCIDENTS, user=ALICE
        )
        for _ in range(2)
    )
    assert await send(bridge, first) == 200
    assert await send(bridge, second) == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    note = await bridge.slack.wait_for(lambda s: s.responses[before:])
    assert "already sent again" in note[0].body["text"]
    await bridge.idle()
    assert len(deliveries(bridge)) == 2
    assert sorted(deliveries(bridge)) == sorted(NUMBERS)
    # The failure list now says who retried as what, and its Retry button is gone.
    assert ids.RETRY_FAILED not in repr(message.blocks)
    assert "sent the failed recipients again as" in repr(message.blocks)


async def test_unknown_is_not_retried_without_its_own_button(bridge: Bridge) -> None:
    tnt = bridge.emulators.talkntalk
    tnt.balance = 1
    tnt.inject(status=500, body={"detail": "upstream hiccup"}, process=True)
    # The first request goes out and then answers 500 (unknown); the second finds no credit.
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.idle()
    [unknown_to] = deliveries(bridge)
    tnt.balance = 1000
    message = await failure_message(bridge, ids.RETRY_UNKNOWN)
    assert ids.RETRY_FAILED in repr(message.blocks)
    await bridge.user.click(message.ts, ids.RETRY_FAILED)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    assert Counter(deliveries(bridge)) == {unknown_to: 1, (NUMBERS - {unknown_to}).pop(): 1}
    # Only the explicit "Send again to unknown" button sends to it a second time.
    await bridge.user.click(message.ts, ids.RETRY_UNKNOWN)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 3)
    await bridge.idle()
    assert Counter(deliveries(bridge))[unknown_to] == 2


async def test_retry_by_someone_not_allowed_is_refused(bridge: Bridge) -> None:
    await send_with_one_failed(bridge)
    message = await failure_message(bridge, ids.RETRY_FAILED)
    before = len(bridge.slack.responses)
    status, _ = await bridge.as_user(CAROL).click(message.ts, ids.RETRY_FAILED)
    assert status == 200
    note = await bridge.slack.wait_for(lambda s: s.responses[before:])
    assert "not allowed" in note[0].body["text"]
    await bridge.idle()
    assert len(deliveries(bridge)) == 1
