"""A storm of repeats costs a few Slack updates, not one each: repeats within the gap
(``RuntimeOptions.alert_update_gap``) are shown by one trailing update, so the message still
ends with the last count. Without it every repeat was a ``chat.update`` (Slack rate-limits
them) and those updates were most of what a storm cost the bridge (bench/alerts.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bot.alerts.test_alerts_e2e import pages_of
from tests.bot.alerts_kit import am_group, post, start_alerting
from tests.bot.bridge_kit import Bridge
from tests.bot.paging_kit import Clock, root_of, sms_texts
from tests.clocks import wait_until

REPEATS = 20
GAP = 2.0  # seconds; long next to 20 local requests one after another, so few gaps pass


async def repeat(bridge: Bridge, body: dict[str, Any]) -> None:
    """One repeat after another, as Alertmanager sends a group's: each answered before the next."""
    for _ in range(REPEATS):
        assert (await post(bridge, "/alerts/prod-am", body)).status == 202


def updates(bridge: Bridge) -> int:
    return len(bridge.slack.calls_to("chat.update"))


async def test_a_burst_of_repeats_is_shown_by_a_few_updates_ending_with_the_last_count(
    tmp_path: Path,
) -> None:
    bridge = await start_alerting(tmp_path, Clock(), gap=GAP)
    try:
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await wait_until(lambda: sms_texts(bridge))
        (page_id,) = pages_of(bridge)
        await wait_until(lambda: "seen 1×" in str(root_of(bridge, page_id).blocks))
        await bridge.idle()
        before = updates(bridge)

        await repeat(bridge, am_group())
        await wait_until(
            lambda: f"seen {REPEATS + 1}×" in str(root_of(bridge, page_id).blocks),
            what="the trailing update with the last count",
        )
        await bridge.idle()
        assert updates(bridge) - before <= 5  # a handful, not one per repeat
        assert len(sms_texts(bridge)) == 1
    finally:
        await bridge.world.close()


async def test_repeats_of_a_slack_only_group_also_end_with_the_last_count(
    tmp_path: Path,
) -> None:
    bridge = await start_alerting(tmp_path, Clock(), gap=GAP)
    try:
        body = am_group(key="warn-group")
        body["commonLabels"]["severity"] = "warning"
        assert (await post(bridge, "/alerts/prod-am", body)).status == 202
        await wait_until(lambda: any("seen 1×" in str(m.blocks) for m in bridge.channel_messages()))
        await bridge.idle()
        before = updates(bridge)
        await repeat(bridge, body)
        await wait_until(
            lambda: f"seen {REPEATS + 1}×" in str(bridge.channel_messages()[-1].blocks),
            what="the trailing update with the last count",
        )
        await bridge.idle()
        assert updates(bridge) - before <= 5
        assert len(bridge.channel_messages()) == 1  # updated in place, never posted twice
    finally:
        await bridge.world.close()
