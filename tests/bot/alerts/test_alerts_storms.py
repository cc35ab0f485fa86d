"""Alert storms end to end, through the real server, the Slack stand-in and the SMS emulator:
past ``storm.max_pages`` new groups within ``storm.per``, further groups join one storm page
(one SMS saying so, the list in its root message); resolving them updates the list and the
last one ends the page; once the window passes on the test's clock, new groups page alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.bot.alerts.test_alerts_e2e import pages_of, thread_of
from tests.bot.alerts_kit import ALERTS, am_group, post, start_alerting
from tests.bot.paging_kit import Clock, root_of, sms_texts
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

STORMY = ALERTS.replace(
    "  prod-am:\n    kind: alertmanager\n",
    "  prod-am:\n    kind: alertmanager\n    storm: {max_pages: 2, per: 1m}\n",
)


async def test_a_storm_shares_one_page_until_its_window_passes(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock, alerts=STORMY)
    try:
        for n in range(2):
            assert (await post(bridge, "/alerts/prod-am", am_group(key=f"g{n}"))).status == 202
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="two pages, one per group")
        alone = pages_of(bridge)
        for n in range(2, 5):
            assert (await post(bridge, "/alerts/prod-am", am_group(key=f"g{n}"))).status == 202
        await wait_until(lambda: len(sms_texts(bridge)) == 3, what="one storm page")
        await bridge.idle()
        assert len(sms_texts(bridge)) == 3  # three groups, one message
        told = sms_texts(bridge)[2][1]
        assert "[alert storm] prod-am: over 2 new alert groups within 1m" in told
        (storm,) = pages_of(bridge) - alone
        await wait_until(lambda: "3 still firing" in str(root_of(bridge, storm).blocks))
        assert "3 group(s) joined this page" in str(root_of(bridge, storm).blocks)
        listed = await slash(bridge, "alerts")
        assert listed.text.count(f"page *{storm}* active") == 3

        resolved = await post(bridge, "/alerts/prod-am", am_group("resolved", key="g2"))
        assert resolved.status == 202
        await wait_until(lambda: "2 still firing" in str(root_of(bridge, storm).blocks))
        page = await bridge.runtime.store.get_page(storm)
        assert page is not None
        assert page.state == "active"  # the storm goes on while any of its groups fires

        clock.advance(timedelta(seconds=61))  # the window has passed: a new group pages alone
        assert (await post(bridge, "/alerts/prod-am", am_group(key="g5"))).status == 202
        await wait_until(lambda: len(sms_texts(bridge)) == 4, what="a page of its own")
        assert len(pages_of(bridge)) == 4
        assert "[alert storm]" not in sms_texts(bridge)[3][1]

        for n in (3, 4):
            await post(bridge, "/alerts/prod-am", am_group("resolved", key=f"g{n}"))
        page = await bridge.runtime.store.get_page(storm)
        assert page is not None
        assert page.state == "ended"  # its last group resolved: recorded before the answer
        await wait_until(lambda: "resolved at the source (prod-am)" in thread_of(bridge, storm))
        await wait_until(lambda: "0 still firing" in str(root_of(bridge, storm).blocks))
    finally:
        await bridge.world.close()
