"""A silenced group's Slack message tells the truth once its silence ends, through the real
server, the Slack stand-in and the SMS emulator on the test's clock: on the scheduler's tick
after the silence expires, at once after ``/send unsilence``, and again when a repeat starts its
page; ``/send alerts`` stops calling it silenced too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bridge_sandbox.slack import PostedMessage

from tests.bot.alerts.test_alerts_e2e import pages_of
from tests.bot.alerts.test_alerts_silences import silence_id
from tests.bot.alerts_kit import am_group, post, start_alerting
from tests.bot.bridge_kit import BOB, Bridge
from tests.bot.paging_kit import Clock, sms_texts
from tests.bot.slack_steps import slash
from tests.clocks import wait_until


def group_message(bridge: Bridge) -> PostedMessage | None:
    """The group's own message (the one that said it was silenced), as it reads now."""
    for message in bridge.channel_messages():
        versions = [message.blocks, *(edit.blocks for edit in message.history)]
        if any("Silenced by" in str(blocks) for blocks in versions):
            return message
    return None


def says(bridge: Bridge, words: str) -> bool:
    found = group_message(bridge)
    return found is not None and words in str(found.blocks)


async def test_an_expired_silence_shows_on_the_next_tick_and_a_repeat_pages(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        sid = silence_id((await slash(bridge, "silence prod-am 1h maintenance")).text)
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await wait_until(lambda: says(bridge, "Silenced by <@U0ALICE001>"), what="silenced")
        await bridge.idle()
        first = group_message(bridge)
        assert first is not None
        ts = first.ts

        clock.advance(timedelta(minutes=59))
        await bridge.runtime.paging.tick()  # still in force: the message stays as it was
        await bridge.idle()
        assert says(bridge, "Paged nobody")
        assert f"silenced (`{sid}`)" in (await slash(bridge, "alerts")).text

        clock.advance(timedelta(minutes=1))  # the silence expires: nothing is written...
        await bridge.runtime.paging.tick()  # ...the scheduler's tick sees it
        await wait_until(lambda: says(bridge, "No longer silenced"), what="the expiry shown")
        shown = group_message(bridge)
        assert shown is not None
        assert shown.ts == ts  # the same message, updated in place
        text = str(shown.blocks)
        assert "it pages through `db-outage` at its next notification" in text
        assert f"Silenced by <@U0ALICE001> (`{sid}`): maintenance" in text
        assert "it expired at 2026-11-24 04:00 UTC" in text
        assert "Paged nobody" not in text
        listed = (await slash(bridge, "alerts")).text
        assert f"silence `{sid}` ended, pages at its next notification" in listed
        assert "silenced (" not in listed
        await bridge.runtime.paging.tick()  # a later tick does not show it again
        await bridge.idle()
        assert len(shown.history) == 1
        assert sms_texts(bridge) == []  # nobody paged until the source sends it again

        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await wait_until(lambda: sms_texts(bridge), what="the page once the silence expired")
        (page_id,) = pages_of(bridge)
        await wait_until(lambda: says(bridge, f"it pages now (page *{page_id}*"), what="paged")
    finally:
        await bridge.world.close()


async def test_unsilence_shows_at_once_and_a_slack_only_group_says_it_pages_nobody(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        sid = silence_id((await slash(bridge, "silence prod-am 2h")).text)
        warning = am_group(key="warn")
        warning["commonLabels"]["severity"] = "warning"  # its route posts in Slack only
        assert (await post(bridge, "/alerts/prod-am", warning)).status == 202
        await wait_until(lambda: says(bridge, "Silenced by"), what="silenced")
        await bridge.idle()

        clock.advance(timedelta(minutes=10))
        ended = await slash(bridge, f"unsilence {sid}", user=BOB)
        assert f"Ended silence *{sid}*" in ended.text
        # No tick ran (the scheduler sleeps an hour here): the unsilence itself showed it.
        await wait_until(lambda: says(bridge, "No longer silenced"), what="the unsilence shown")
        shown = group_message(bridge)
        assert shown is not None
        text = str(shown.blocks)
        assert "this route posts in Slack only, so it pages nobody" in text
        assert "<@U0BOB00002> ended it at 2026-11-24 03:10 UTC" in text
        assert "Slack only" in (await slash(bridge, "alerts")).text
        assert (await post(bridge, "/alerts/prod-am", warning)).status == 202  # a repeat
        await bridge.idle()
        assert says(bridge, "No longer silenced")  # still true after the repeat's update
        assert sms_texts(bridge) == []
    finally:
        await bridge.world.close()


async def test_a_repeat_held_by_a_new_silence_shows_the_new_one(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        first = silence_id((await slash(bridge, "silence prod-am 1h")).text)
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await wait_until(lambda: says(bridge, f"(`{first}`)"), what="silenced by the first")
        clock.advance(timedelta(hours=1))
        await bridge.runtime.paging.tick()
        await wait_until(lambda: says(bridge, "No longer silenced"), what="the expiry shown")

        second = silence_id((await slash(bridge, "silence prod-am 2h swap")).text)
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202  # a repeat
        await wait_until(
            lambda: says(bridge, f"until 2026-11-24 06:00 UTC (`{second}`): swap"),
            what="the repeat shown under the new silence",
        )
        assert f"silenced (`{second}`)" in (await slash(bridge, "alerts")).text
        await bridge.idle()
        assert sms_texts(bridge) == []  # held by the new silence: nobody paged
    finally:
        await bridge.world.close()
