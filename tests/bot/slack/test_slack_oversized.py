"""No report is lost: every block fits Slack's limits, and a post Slack still refuses falls back
to plain text, then to telling the sender directly."""

from __future__ import annotations

from typing import Any

from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.slack.blockkit import MAX_MESSAGE_BLOCKS, block_problems

from bot.slack import ids
from tests.bot.bridge_kit import ALICE, INCIDENTS, Bridge
from tests.bot.slack_steps import deliveries, roots

LONG_URL = "https://cdn.example.com/" + "a" * (2990 - len("https://cdn.example.com/"))
CAPTION = "Checkout & payments are down; see the graph " * 14  # about 600 characters


async def modal_send(bridge: Bridge, values: dict[str, Any], channel: str = "oncall-sms") -> None:
    status, _ = await bridge.user.slash("/send", "")
    assert status == 200
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    if channel != "oncall-sms":
        await bridge.user.choose(view["id"], ids.CHANNEL_ACTION, channel)
        await bridge.slack.wait_for(lambda s: s.calls_to("views.update"))
    status, ack = await bridge.user.submit(view["id"], values)
    assert (status, ack) == (200, None)


async def test_modal_image_with_a_2990_character_url_gets_its_root_and_failure_thread(
    bridge: Bridge,
) -> None:
    await bridge.user.slash("/send", "")
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    await bridge.user.choose(view["id"], ids.CHANNEL_ACTION, "customers")
    await bridge.slack.wait_for(lambda s: len(s.calls_to("views.update")) == 1)
    await bridge.user.choose(view["id"], ids.TYPE_ACTION, "image")
    await bridge.slack.wait_for(lambda s: len(s.calls_to("views.update")) == 2)
    bridge.emulators.autokonnect.inject(Fault(status=400, body={"message": "bad media"}))
    values = {
        ids.MEDIA_URL_BLOCK: LONG_URL,
        ids.TEXT_BLOCK: CAPTION,
        ids.NUMBERS_BLOCK: "+254712345678",
    }
    status, ack = await bridge.user.submit(view["id"], values)
    assert (status, ack) == (200, None)
    failure = await bridge.slack.wait_for_message(INCIDENTS, ids.RETRY_FAILED)
    await bridge.idle()
    assert [c.error for c in bridge.slack.calls_to("chat.postMessage")] == [None, None]
    [root] = roots(bridge)
    assert block_problems(root.blocks, MAX_MESSAGE_BLOCKS, "/blocks") == []
    assert "…" in repr(root.blocks)  # the URL is shown cut, visibly
    assert failure.thread_ts == root.ts


async def test_blocks_slack_refuses_fall_back_to_a_plain_text_root(bridge: Bridge) -> None:
    bridge.slack.fail_next("chat.postMessage", "invalid_blocks", status=200, retry_after=None)
    await modal_send(bridge, {ids.TEXT_BLOCK: "Disk full on db-1"})
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    first, second = bridge.slack.calls_to("chat.postMessage")[:2]
    assert first.error == "invalid_blocks"
    assert second.error is None
    assert "blocks" not in second.args
    [request] = await bridge.runtime.store.recent_requests(None)
    fallback = str(second.args["text"])  # the whole report, as text
    assert "*oncall-sms*" in fallback
    assert f"/send status {request.request_id}" in fallback
    [root] = roots(bridge)  # one root; later updates carry the blocks again
    assert root.text.startswith("<@U0ALICE001> sent a text")


async def test_when_slack_refuses_the_fallback_too_the_sender_is_told_directly(
    bridge: Bridge,
) -> None:
    bridge.slack.fail_next(
        "chat.postMessage", "invalid_blocks", status=200, retry_after=None, times=2
    )
    await modal_send(bridge, {ids.TEXT_BLOCK: "Disk full on db-1"})
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    dm = await bridge.slack.wait_for(lambda s: s.messages.get(ALICE))
    await bridge.idle()
    [request] = await bridge.runtime.store.recent_requests(None)
    assert roots(bridge) == []
    assert "could not post the results" in dm[0].text
    assert f"/send status {request.request_id}" in dm[0].text
