"""Slack misbehaves while a send runs: the send goes ahead, the record is whole, and the sender
is told where to look — a Slack problem never stops messages reaching phones."""

from __future__ import annotations

from bot.send.records import group_for
from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import deliveries, roots, slash


async def test_bot_not_in_the_channel_still_sends_and_tells_the_sender_where_to_look(
    bridge: Bridge,
) -> None:
    bridge.slack.fail_next("chat.postMessage", "not_in_channel", status=200, retry_after=None)
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    note = await bridge.slack.wait_for(
        lambda s: [r for r in s.responses if "could not post the results" in str(r.body)]
    )
    text = str(note[0].body["text"])
    assert "(not_in_channel)" in text
    assert "/invite" in text
    assert "The send went ahead: `/send status R" in text
    await bridge.idle()
    assert roots(bridge) == []
    [request] = await bridge.runtime.store.recent_requests(None)
    assert (await bridge.runtime.store.counts(request.request_id))["sent"] == 2


async def test_slack_rate_limiting_the_summary_is_waited_out_and_the_final_state_shown(
    bridge: Bridge,
) -> None:
    # Slack answers 429 to two summary updates; slack_sdk waits out its Retry-After (1 s).
    bridge.slack.fail_next("chat.update", "ratelimited", status=429, retry_after=1, times=2)
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    [root] = roots(bridge)
    assert "sent 2/2" in repr(root.blocks)


async def test_slack_failing_every_update_never_stops_the_send(bridge: Bridge) -> None:
    bridge.slack.fail_next("chat.update", "internal_error", status=200, retry_after=None, times=99)
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    [request] = await bridge.runtime.store.recent_requests(None)
    assert request.state.value == "done"
    assert (await bridge.runtime.store.counts(request.request_id))["sent"] == 2
    assert sorted(deliveries(bridge)) == ["254712345678", "254798765432"]


async def test_the_final_summary_outlasts_slack_rate_limits_beyond_the_sdks_own_retries(
    bridge: Bridge,
) -> None:
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    [root] = roots(bridge)
    # A receipt-free second look: the send is done; now Slack refuses three updates in a row
    # (slack_sdk's own two retries included) and the bridge must still land the final state.
    bridge.slack.fail_next("chat.update", "ratelimited", status=429, retry_after=1, times=3)
    group = group_for(await bridge.runtime.store.recent_requests(None))
    assert bridge.runtime.service.reporter is not None
    await bridge.runtime.service.reporter.refresh(group, final=True)
    assert not bridge.slack.failures
    assert "sent 2/2" in repr(root.blocks)
