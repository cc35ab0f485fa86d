"""Shortcuts end to end: the on-call broadcast and "send this message"."""

from __future__ import annotations

from typing import Any

from bot.slack import ids
from tests.bot.bridge_kit import CAROL, INCIDENTS, Bridge
from tests.bot.slack_steps import deliveries, nothing_sent, roots


async def open_view(bridge: Bridge, calls_before: int = 0) -> dict[str, Any]:
    await bridge.slack.wait_for(lambda s: len(s.calls_to("views.open")) > calls_before)
    assert bridge.slack.calls_to("views.open")[-1].error is None
    view = bridge.slack.last_view()
    assert view is not None
    return view


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    chosen: dict[str, Any] = found["element"]
    return chosen


async def test_broadcast_renders_the_template_and_sends_through_every_channel(
    bridge: Bridge,
) -> None:
    status, ack = await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
    assert (status, ack) == (200, None)
    view = await open_view(bridge)
    assert view["callback_id"] == ids.BROADCAST_MODAL
    channels = element(view, f"{ids.CHANNELS_BLOCK}.oncall")
    assert [o["value"] for o in channels["initial_options"]] == ["oncall-sms", "noc-group"]
    values = {f"{ids.SEVERITY_BLOCK}.oncall": "SEV1", ids.TEXT_BLOCK: "Checkout is down"}
    status, ack = await bridge.user.submit(view["id"], values)
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 3)
    await bridge.idle()
    expected = "[SEV1] Checkout is down (from alice)"
    sms = bridge.emulators.talkntalk.deliveries
    assert sorted(d.recipient for d in sms) == [
        "120363410923125768@g.us",
        "254712345678",
        "254798765432",
    ]
    assert {d.payload["message"] for d in sms} == {expected}
    [root] = roots(bridge, INCIDENTS)  # announce_in; one root for the whole broadcast
    assert "oncall-sms" in root.text + repr(root.blocks)
    assert "noc-group" in root.text + repr(root.blocks)


async def test_broadcast_to_the_chosen_channels_only(bridge: Bridge) -> None:
    await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
    view = await open_view(bridge)
    values = {
        f"{ids.SEVERITY_BLOCK}.oncall": "SEV3",
        ids.TEXT_BLOCK: "Maintenance tonight",
        f"{ids.CHANNELS_BLOCK}.oncall": ["noc-group"],
    }
    status, ack = await bridge.user.submit(view["id"], values)
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 1)
    await bridge.idle()
    assert deliveries(bridge) == ["120363410923125768@g.us"]


async def test_broadcast_with_no_channel_ticked_is_refused_inline(bridge: Bridge) -> None:
    await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
    view = await open_view(bridge)
    values = {
        f"{ids.SEVERITY_BLOCK}.oncall": "SEV2",
        ids.TEXT_BLOCK: "x",
        f"{ids.CHANNELS_BLOCK}.oncall": [],
    }
    _, ack = await bridge.user.submit(view["id"], values)
    assert ack == {
        "response_action": "errors",
        "errors": {f"{ids.CHANNELS_BLOCK}.oncall": "Pick at least one channel to send to."},
    }
    await nothing_sent(bridge)


async def test_broadcast_for_someone_not_allowed_explains_whom_to_ask(bridge: Bridge) -> None:
    status, _ = await bridge.as_user(CAROL).shortcut(ids.BROADCAST_SHORTCUT)
    assert status == 200
    view = await open_view(bridge)
    assert view["callback_id"] == ids.NOTICE_MODAL
    assert "not allowed to send an on-call broadcast" in repr(view["blocks"])
    assert view.get("submit") is None


async def test_message_shortcut_prefills_the_text_and_reports_in_its_thread(
    bridge: Bridge,
) -> None:
    seeded = bridge.slack.post(
        INCIDENTS,
        "Checkout errors &gt; 30% &amp; rising, see <https://status.example/x|status.example/x>",
        user=CAROL,
    )
    status, ack = await bridge.user.message_shortcut(ids.MESSAGE_SHORTCUT, seeded.ts)
    assert (status, ack) == (200, None)
    view = await open_view(bridge)
    text = element(view, ids.TEXT_BLOCK)["initial_value"]
    assert text == "Checkout errors > 30% & rising, see status.example/x"
    status, ack = await bridge.user.submit(view["id"])  # untouched: the prefilled text is sent
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    assert {d.payload["message"] for d in bridge.emulators.talkntalk.deliveries} == {text}
    replies = [m for m in bridge.slack.thread(INCIDENTS, seeded.ts) if m.user is None]
    assert replies, "no result in the message's thread"
    assert all(m.thread_ts == seeded.ts for m in replies)
    assert roots(bridge) == []  # nothing at the top of the channel


async def test_message_shortcut_on_a_reply_reports_in_the_same_thread(bridge: Bridge) -> None:
    root = bridge.slack.post(INCIDENTS, "Incident 42", user=CAROL)
    reply = bridge.slack.post(INCIDENTS, "DB is full", user=CAROL, thread_ts=root.ts)
    await bridge.user.message_shortcut(ids.MESSAGE_SHORTCUT, reply.ts)
    view = await open_view(bridge)
    assert '"thread_ts":"' + root.ts + '"' in view["private_metadata"]
    await bridge.user.submit(view["id"])
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    ours = [m for m in bridge.channel_messages() if m.user is None]
    assert ours
    assert all(m.thread_ts == root.ts for m in ours)
