"""SMS parts end to end: an SMS over ``max_sms_parts`` is refused on every Slack surface before
anything reaches the provider, and the part count is shown where a sender decides."""

from __future__ import annotations

from typing import Any

from bridge_sandbox.slack import payloads

from bot.slack import ids
from bot.slack.modal_send import SMS_PARTS_BLOCK
from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import deliveries, nothing_sent, provider_requests, slash

CURLY = "Disk full ’ on db-1. " + "x" * 450  # 471 characters: 4 parts in GSM-7, 8 in UCS-2
REFUSAL = (
    "This SMS to `oncall-sms` is 8 parts (UCS-2 because of '’' at position 11); the limit is 6. "
    "Shorten it or replace '’' with \"'\": it would then fit."
)


async def open_modal(bridge: Bridge) -> dict[str, Any]:
    status, _ = await bridge.user.slash("/send", "")
    assert status == 200
    return await bridge.slack.wait_for(lambda s: s.last_view())


def context_text(view: dict[str, Any]) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == SMS_PARTS_BLOCK)
    return str(block["elements"][0]["text"])


async def test_a_40000_character_slash_send_is_refused_and_nothing_is_sent(
    bridge: Bridge,
) -> None:
    reply = await slash(bridge, "oncall-sms " + "x" * 40_000)
    assert reply.text.startswith(
        "This SMS to `oncall-sms` is 262 parts (GSM-7); the limit is 6. Shorten it to at most "
        "918 characters"
    )
    assert reply.text.endswith("Nothing was sent.")
    await nothing_sent(bridge)


async def test_a_curly_quote_in_a_slash_send_names_the_character(bridge: Bridge) -> None:
    reply = await slash(bridge, "oncall-sms " + CURLY)
    assert reply.text == REFUSAL + " Nothing was sent."
    await nothing_sent(bridge)
    # Straightened, the same text goes out as 4 GSM-7 parts.
    await slash(bridge, "oncall-sms " + CURLY.replace("’", "'"))
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)


async def test_the_modal_shows_the_refusal_inline_on_the_text(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    status, ack = await bridge.user.submit(view["id"], {ids.TEXT_BLOCK: CURLY})
    assert status == 200
    assert ack == {"response_action": "errors", "errors": {ids.TEXT_BLOCK: REFUSAL}}
    await nothing_sent(bridge)


async def test_the_modal_counts_the_text_it_is_built_with(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    assert [c.error for c in bridge.slack.calls_to("views.open")] == [None]
    assert context_text(view).startswith("SMS: a part holds 160 GSM-7 characters, or 70")
    assert "at most 6 parts" in context_text(view)
    payloads.fill_view(bridge.slack, view["id"], {ids.TEXT_BLOCK: "It’s down " + "x" * 150})
    updates = len(bridge.slack.calls_to("views.update"))
    await bridge.user.choose(view["id"], ids.CHANNEL_ACTION, "everyone-sms")
    await bridge.slack.wait_for(lambda s: len(s.calls_to("views.update")) > updates)
    assert [c.error for c in bridge.slack.calls_to("views.update")] == [None]
    view = bridge.slack.views[view["id"]]
    assert context_text(view) == (
        "SMS so far: 3 parts, UCS-2 because of '’' at position 3 (160 characters); at most 6 "
        "parts. Counted again when you press Send."
    )
    # WhatsApp is not counted in SMS parts: no line.
    await bridge.user.choose(view["id"], ids.CHANNEL_ACTION, "noc-group")
    await bridge.slack.wait_for(lambda s: len(s.calls_to("views.update")) > updates + 1)
    view = bridge.slack.views[view["id"]]
    assert SMS_PARTS_BLOCK not in [b.get("block_id") for b in view["blocks"]]


async def test_a_held_send_says_how_many_parts_each_person_gets(bridge: Bridge) -> None:
    prompt = await slash(bridge, "everyone-sms Office closed today " + "x" * 150)
    assert prompt.text == (
        "This sends to 12 people through everyone-sms (SMS: 2 parts, GSM-7, to each). Send?"
    )
    assert "SMS: 2 parts, GSM-7, to each" in repr(prompt.blocks)
    await bridge.idle()
    assert provider_requests(bridge) == 0


async def test_a_queued_sms_says_its_parts(bridge: Bridge) -> None:
    reply = await slash(bridge, "oncall-sms Disk full on db-1")
    assert reply.text.startswith("Queued R")
    assert "SMS: 1 part, GSM-7, to each." in reply.text


async def test_a_broadcast_whose_sms_is_too_long_is_refused_inline(bridge: Bridge) -> None:
    await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    # 900 typed characters fit 6 GSM-7 parts; the preset's "[SEV1] … (from alice)" does not.
    values = {f"{ids.SEVERITY_BLOCK}.oncall": "SEV1", ids.TEXT_BLOCK: "y" * 900}
    status, ack = await bridge.user.submit(view["id"], values)
    assert status == 200
    assert ack["response_action"] == "errors"
    error = ack["errors"][ids.TEXT_BLOCK]
    assert error.startswith("This SMS to `oncall-sms` is 7 parts (GSM-7); the limit is 6.")
    assert "the preset's template" in error
    await nothing_sent(bridge)
