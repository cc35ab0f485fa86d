"""AutoKonnect expands contact tags on its side: the thread and the terminal say how many people
it queued the message for, not just how many addresses we sent (one tag can be thousands)."""

from __future__ import annotations

from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import roots, slash


async def test_the_summary_shows_how_many_people_autokonnect_queued_a_tag_send_for(
    bridge: Bridge,
) -> None:
    await slash(bridge, "customers Your order has shipped")
    await bridge.slack.wait_for(lambda s: len(bridge.emulators.autokonnect.deliveries) == 3)
    await bridge.idle()
    [root] = roots(bridge)
    # tag:42 is one address to us and three numbers to AutoKonnect (its emulator's tag list).
    assert "sent 1/1" in repr(root.blocks)
    assert "the provider queued it for 3 people" in repr(root.blocks)
    [request] = await bridge.runtime.store.recent_requests(None)
    assert request.provider_count == 3
