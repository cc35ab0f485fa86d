"""Heartbeats end to end, through the real server, the Slack stand-in and the SMS emulator: a
ping with its key resets one (any other key gets the same 401 whether the name exists or
not); no ping for ``every`` + ``grace`` on the test's clock starts one page, however often the
scheduler ticks; the next ping ends it; a heartbeat that never pinged pages too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.bot.alerts.test_alerts_e2e import pages_of, thread_of
from tests.bot.alerts_kit import AM_KEY, HB_KEY, post, start_alerting
from tests.bot.bridge_kit import INCIDENTS, Bridge
from tests.bot.paging_kit import Clock, root_of, sms_texts
from tests.clocks import wait_until

HEARTBEATS = f"""
heartbeats:
  watchdog:
    key: ${{HB_KEY}}
    every: 1m
    grace: 2m
    escalation: db-outage
    announce_in: {INCIDENTS}
"""


async def tick(bridge: Bridge) -> None:
    await bridge.runtime.paging.tick()
    await bridge.idle()


async def test_a_missed_heartbeat_pages_once_and_the_next_ping_ends_it(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock, extra=HEARTBEATS)
    try:
        wrong = await post(bridge, "/heartbeat/watchdog", key=AM_KEY, raw=b"")
        unknown = await post(bridge, "/heartbeat/nope", key=HB_KEY, raw=b"")
        missing = await post(bridge, "/heartbeat/watchdog", key=None, raw=b"")
        assert wrong.status == unknown.status == missing.status == 401
        assert wrong.body == unknown.body == missing.body  # nothing tells a name exists
        assert "send the heartbeat's key" in wrong.body["message"]  # not an integration's
        assert HB_KEY not in str(unknown.body)

        ok = await post(bridge, "/heartbeat/watchdog", key=HB_KEY, raw=b"anything at all")
        assert (ok.status, ok.body["status"]) == (200, "success")
        clock.advance(timedelta(minutes=3) - timedelta(seconds=1))
        await tick(bridge)
        assert sms_texts(bridge) == []  # not late yet

        clock.advance(timedelta(seconds=1))  # every + grace without a ping
        await tick(bridge)
        await wait_until(lambda: sms_texts(bridge), what="the heartbeat's page")
        ((_, body),) = sms_texts(bridge)
        assert "heartbeat watchdog missed since 2026-11-24 03:01 UTC" in body
        (page_id,) = pages_of(bridge)
        assert "heartbeat watchdog missed" in root_of(bridge, page_id).text
        for _ in range(3):
            clock.advance(timedelta(seconds=30))
            await tick(bridge)
        assert pages_of(bridge) == {page_id}  # one page for one miss

        back = await post(bridge, "/heartbeat/watchdog", key=HB_KEY, raw=b"")
        assert back.status == 200
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert page.state == "ended"  # recorded before the answer
        await wait_until(lambda: "heartbeat watchdog back at" in thread_of(bridge, page_id))
        clock.advance(timedelta(hours=1))
        await tick(bridge)
        await wait_until(lambda: len(pages_of(bridge)) == 2, what="a new miss, a new page")
    finally:
        await bridge.world.close()


async def test_a_heartbeat_that_never_pings_pages(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock, extra=HEARTBEATS)
    try:
        clock.advance(timedelta(minutes=3))
        await tick(bridge)
        await wait_until(lambda: sms_texts(bridge), what="a page for a silent heartbeat")
        assert "heartbeat watchdog missed since 2026-11-24 03:01 UTC" in sms_texts(bridge)[0][1]
    finally:
        await bridge.world.close()
