"""AutoKonnect expands contact tags on its side, so a tag is never sent without a second look,
and the thread and the terminal say how many people AutoKonnect queued the message for."""

from __future__ import annotations

from bot.slack import ids
from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import click_ephemeral_body, provider_requests, roots, send, slash


async def test_a_send_to_a_contact_tag_asks_first_then_shows_how_many_were_queued(
    bridge: Bridge,
) -> None:
    prompt = await slash(bridge, "customers Your order has shipped")
    # One address to us, but it could be thousands of customers: confirm first.
    assert prompt.text == (
        "This sends to everyone tagged 42 in AutoKonnect through customers. Send?"
    )
    await bridge.idle()
    assert provider_requests(bridge) == 0
    assert await send(bridge, click_ephemeral_body(bridge, prompt, ids.CONFIRM_SEND)) == 200
    await bridge.slack.wait_for(lambda s: len(bridge.emulators.autokonnect.deliveries) == 3)
    await bridge.idle()
    [root] = roots(bridge)
    assert "sent 1/1" in repr(root.blocks)
    assert "the provider queued it for 3 people" in repr(root.blocks)
    [request] = await bridge.runtime.store.recent_requests(None)
    assert request.provider_count == 3
