"""Urgency and quiet hours, end to end: a low-urgency page waits out a person's quiet hours
(the thread says so once; their rules, or the step's via, start when the window ends; the page
escalates meanwhile as if they had not been paged), a high-urgency page never waits, an ack
during the hold means the held messages never go, and an alert route's urgency is the page's.

At ``START`` it is 06:00 in Nairobi: erin and frank are in quiet hours (22:00–07:00) until
``QUIET_ENDS`` (04:00 UTC). The test drives the clock and runs each tick.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.paging.slack import root_blocks
from bot.paging.status import page_status_text
from tests.bot.alerts_kit import PD_KEY, event, post
from tests.bot.bridge_kit import ALICE, Bridge
from tests.bot.paging.test_paging_more import thread_of
from tests.bot.paging_kit import Clock, root_of
from tests.bot.reach_kit import (
    ERIN_SMS,
    ERIN_WA,
    FRANK_SMS,
    GWEN_SMS,
    HANS_SMS,
    IVAN_SMS,
    IVAN_WA,
    QUIET_ENDS,
    START,
    page,
    reach_bridge,
    sent,
)
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HELD = [
    "erin is in quiet hours until 07:00 Africa/Nairobi: this low-urgency page waits for them",
    "frank is in quiet hours until 07:00 Africa/Nairobi: this low-urgency page waits for them",
]
UPTIME = """
integrations:
  uptime:
    kind: events-v2
    key: ${PD_KEY}
    announce_in: C0INCIDENT
    allowed_senders: [sre]
    routes:
      - {escalation: quiet-high, urgency: low}
"""


async def tick_at(bridge: Bridge, clock: Clock, moment: datetime) -> None:
    """Move the clock to ``moment``, tick, and let the sends go out."""
    clock.now = moment
    await bridge.runtime.paging.tick()
    await bridge.idle()


async def test_a_low_page_waits_out_quiet_hours_while_the_page_escalates(tmp_path: Path) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "quiet-low")
        await bridge.idle()
        assert sent(bridge) == []  # both held
        await tick_at(bridge, clock, START + 5 * MINUTE)  # step 1's wait ran: step 2, gwen
        await wait_until(lambda: sent(bridge) == [("tnt", GWEN_SMS)], what="step 2")
        await tick_at(bridge, clock, QUIET_ENDS - SECOND)
        assert sent(bridge) == [("tnt", GWEN_SMS)]
        held = await bridge.runtime.paging.view(page_id, None)
        assert held is not None
        assert page_status_text(bridge.settings, held).splitlines()[-4:] == [
            "Still to go (until someone acknowledges):",
            "• erin by `sms-adhoc`, rule 1 at 2026-11-24 04:00:00 UTC",
            "• frank by the step's channels at 2026-11-24 04:00:00 UTC",
            "• erin by `india-wa`, rule 2 at 2026-11-24 04:01:00 UTC",
        ]
        await tick_at(bridge, clock, QUIET_ENDS)  # 07:00 Nairobi: erin's rule 1, frank's via
        await wait_until(lambda: len(sent(bridge)) == 3, what="the held sends")
        assert sorted(sent(bridge)) == sorted(
            [("tnt", GWEN_SMS), ("tnt", ERIN_SMS), ("tnt", FRANK_SMS)]
        )
        await tick_at(bridge, clock, QUIET_ENDS + MINUTE - SECOND)
        assert len(sent(bridge)) == 3
        await tick_at(bridge, clock, QUIET_ENDS + MINUTE)  # erin's rule 2: window end + 1m
        await wait_until(lambda: ("kal", ERIN_WA) in sent(bridge), what="erin's rule 2")
        await tick_at(bridge, clock, QUIET_ENDS + 10 * MINUTE)
        assert len(sent(bridge)) == 4  # each once
        await bridge.runtime.paging.wait_idle()
        assert thread_of(bridge, page_id) == [
            *HELD,
            "escalated to step 2",
            "paged gwen by sms-adhoc",
            "paged erin by sms-adhoc (rule 1)",
            "paged frank by sms-adhoc",
            "paged erin by india-wa (rule 2)",
        ]
        assert "quiet-low · low urgency" in json.dumps(
            root_of(bridge, page_id).blocks, ensure_ascii=False
        )
        view = await bridge.runtime.paging.view(page_id, None)
        assert view is not None
        status = page_status_text(bridge.settings, view)
        assert "escalation `quiet-low` · low urgency" in status
        assert "erin by `india-wa`, rule 2 (" in status
        assert "Still to go" not in status  # everything went
    finally:
        await bridge.world.close()


async def test_an_ack_during_quiet_hours_means_the_held_sends_never_go(tmp_path: Path) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "quiet-low")
        clock.now = START + 30 * MINUTE
        assert "You acknowledged" in (await slash(bridge, f"ack {page_id}", user=ALICE)).text
        for moment in (QUIET_ENDS, QUIET_ENDS + MINUTE, QUIET_ENDS + 10 * MINUTE):
            await tick_at(bridge, clock, moment)
        assert sent(bridge) == []
    finally:
        await bridge.world.close()


async def test_a_high_page_is_sent_at_once_in_quiet_hours(tmp_path: Path) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "quiet-high")
        await wait_until(lambda: len(sent(bridge)) == 2, what="erin's rule 1 and frank's SMS")
        assert sorted(sent(bridge)) == sorted([("tnt", ERIN_SMS), ("tnt", FRANK_SMS)])
        await bridge.runtime.paging.wait_idle()
        thread = thread_of(bridge, page_id)
        assert not any("quiet hours" in line for line in thread)
        assert "low urgency" not in json.dumps(root_of(bridge, page_id).blocks, ensure_ascii=False)
    finally:
        await bridge.world.close()


async def test_an_alert_routes_low_urgency_holds_a_high_escalations_page(tmp_path: Path) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock, UPTIME, PD_KEY=PD_KEY)
    try:
        answer = await post(bridge, "/alerts/v2/enqueue", event(), key=None)
        assert answer.status == 202
        await wait_until(
            lambda: bool(bridge.slack.calls_to("chat.postMessage")),
            what="the alert's page root",
        )
        pages = await bridge.runtime.store.active_pages()
        assert [p.escalation for p in pages] == ["quiet-high"]
        page_id = pages[0].page_id
        await wait_until(
            lambda: len(thread_of_or_none(bridge, page_id)) >= 2, what="the holds in the thread"
        )
        assert sent(bridge) == []  # the route made this page low: both held
        assert thread_of(bridge, page_id)[:2] == HELD
        stored = await bridge.runtime.store.get_page(page_id)
        assert stored is not None
        blocks = root_blocks(bridge.settings, stored, [])
        assert "quiet-high · low urgency" in json.dumps(blocks[0], ensure_ascii=False)
        # quiet-high has one step of 5m: its steps have all run long before 07:00, but the page
        # stays open for the held messages, which go at the window's end; it ends unanswered
        # the last step's wait (5m) after the last of them (erin's rule 2 at 07:01).
        await tick_at(bridge, clock, START + 5 * MINUTE)
        waiting = await bridge.runtime.store.get_page(page_id)
        assert waiting is not None
        assert waiting.state == "active"
        assert sent(bridge) == []
        await tick_at(bridge, clock, QUIET_ENDS)
        await wait_until(lambda: len(sent(bridge)) == 2, what="the held sends at 07:00")
        assert sorted(sent(bridge)) == sorted([("tnt", ERIN_SMS), ("tnt", FRANK_SMS)])
        await tick_at(bridge, clock, QUIET_ENDS + MINUTE)
        await wait_until(lambda: len(sent(bridge)) == 3, what="erin's rule 2")
        await tick_at(bridge, clock, QUIET_ENDS + 6 * MINUTE - SECOND)
        still = await bridge.runtime.store.get_page(page_id)
        assert still is not None
        assert still.state == "active"
        await tick_at(bridge, clock, QUIET_ENDS + 6 * MINUTE)
        ended = await bridge.runtime.store.get_page(page_id)
        assert ended is not None
        assert ended.state == "ended"
        await bridge.runtime.paging.wait_idle()
        thread = thread_of(bridge, page_id)
        assert (
            "every step has run; the page stays open for the messages still due, until "
            "2026-11-24 04:06 UTC unless acknowledged"
        ) in thread
        assert thread[-1] == "ended unanswered"
        assert len(sent(bridge)) == 3  # each once
    finally:
        await bridge.world.close()


def thread_of_or_none(bridge: Bridge, page_id: str) -> list[str]:
    try:
        return thread_of(bridge, page_id)
    except AssertionError:  # no root yet
        return []


@pytest.mark.parametrize(
    ("paged_at", "ends", "words"),
    [
        # spring forward: 02:30 never comes, 02:00 CET jumps to 03:00 CEST (01:00 UTC)
        (
            datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
            datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
            "03:00",
        ),
        # fall back: 02:30 comes twice (00:30 and 01:30 UTC): held until the later one
        (
            datetime(2027, 10, 31, 0, 10, tzinfo=UTC),
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
            "02:30",
        ),
    ],
)
async def test_a_clock_change_inside_quiet_hours(
    tmp_path: Path, paged_at: datetime, ends: datetime, words: str
) -> None:
    clock = Clock(paged_at)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "berlin-low")
        await tick_at(bridge, clock, ends - SECOND)
        assert sent(bridge) == []
        await tick_at(bridge, clock, ends)
        await wait_until(lambda: sent(bridge) == [("tnt", HANS_SMS)], what="the held SMS")
        await bridge.runtime.paging.wait_idle()
        assert thread_of(bridge, page_id) == [
            f"hans is in quiet hours until {words} Europe/Berlin: this low-urgency page waits "
            "for them",
            "paged hans by sms-adhoc",
        ]
    finally:
        await bridge.world.close()


async def test_a_rule_that_would_fall_in_quiet_hours_waits_and_the_rest_keep_their_spacing(
    tmp_path: Path,
) -> None:
    clock = Clock(START)  # 06:00 Nairobi; ivan's quiet hours are 06:01–07:00
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "ivan-low")
        await wait_until(lambda: sent(bridge) == [("tnt", IVAN_SMS)], what="rule 1 at once")
        await tick_at(bridge, clock, START + 2 * MINUTE)  # rule 2's own time: quiet
        await tick_at(bridge, clock, QUIET_ENDS - SECOND)
        assert sent(bridge) == [("tnt", IVAN_SMS)]
        await tick_at(bridge, clock, QUIET_ENDS)
        await wait_until(lambda: ("kal", IVAN_WA) in sent(bridge), what="rule 2 at 07:00")
        await tick_at(bridge, clock, QUIET_ENDS + MINUTE - SECOND)
        assert len(sent(bridge)) == 2
        await tick_at(bridge, clock, QUIET_ENDS + MINUTE)  # rule 3: still 1m after rule 2
        await wait_until(lambda: len(sent(bridge)) == 3, what="rule 3")
        await bridge.runtime.paging.wait_idle()
        assert thread_of(bridge, page_id) == [
            "paged ivan by sms-adhoc (rule 1)",
            "ivan's rule 2 (india-wa) would fall in their quiet hours: it waits until 07:00 "
            "Africa/Nairobi",
            "paged ivan by india-wa (rule 2)",
            "paged ivan by customers (rule 3)",
        ]
    finally:
        await bridge.world.close()
