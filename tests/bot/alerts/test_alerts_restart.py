"""An alert's page survives a restart like any page, and a start cut off between recording the
group and recording its page (the process died; the source got no 202 and retries) is finished
by the retry: one page, paged once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.alerts.service import group_hash
from bot.store.alerts_base import NewAlertGroup
from tests.bot.alerts_kit import am_group, post, start_alerting
from tests.bot.bridge_kit import FAST, INCIDENTS
from tests.bot.crash_kit import restart_in_process
from tests.bot.paging_kit import START, Clock, root_of, sms_texts
from tests.clocks import wait_until


async def test_a_retry_finishes_a_start_cut_off_before_its_page(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        body = am_group()
        cut_off = NewAlertGroup(
            "ACUTOFF0000000001", "prod-am", group_hash(body["groupKey"]), body["groupKey"],
            "db-outage", "[critical] Postgres primary is down", "{}", START, INCIDENTS,
        )  # fmt: skip
        await bridge.runtime.store.open_alert_group(cut_off)  # and then the process died
        assert (await post(bridge, "/alerts/prod-am", body)).status == 202  # the retry
        await wait_until(lambda: sms_texts(bridge), what="the page's first SMS")
        group = await bridge.runtime.store.alert_group("ACUTOFF0000000001")
        assert group is not None
        assert group.page_id is not None
        assert group.count == 2
        assert (await post(bridge, "/alerts/prod-am", body)).status == 202
        await bridge.idle()
        assert len(sms_texts(bridge)) == 1
    finally:
        await bridge.world.close()


async def test_an_alert_page_goes_on_after_a_restart_and_its_resolve_ends_it(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await wait_until(lambda: sms_texts(bridge))
        (page,) = await bridge.runtime.store.active_pages()
        bridge.world = await restart_in_process(
            bridge.world, tmp_path, replace(FAST, clock=clock, page_tick=3600)
        )
        clock.advance(timedelta(minutes=5))  # step 1's wait
        assert await bridge.runtime.paging.tick() == 1
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2 after the restart")
        assert (await post(bridge, "/alerts/prod-am", am_group("resolved"))).status == 202
        await bridge.idle()
        await wait_until(
            lambda: "Resolved at the source" in str(root_of(bridge, page.page_id).blocks)
        )
        assert "`alertname=PostgresDown`" in str(root_of(bridge, page.page_id).blocks)
        clock.advance(timedelta(hours=1))
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert len(sms_texts(bridge)) == 2
    finally:
        await bridge.world.close()
