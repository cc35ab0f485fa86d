"""An alert's page survives a restart like any page, and a start cut off between recording the
group and recording its page (the process died; the source got no 202 and retries) is finished
by the retry: one page, paged once. Silences and a heartbeat's miss survive a restart too.

A group and its page are one transaction unless the integration has a storm limit (its page
starts after the commit, the limit counted under a lock): only there can a start be cut off."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.alerts.service import group_hash
from bot.store.alerts_base import AlertNote, NewAlertGroup
from tests.bot.alerts.test_alerts_storms import STORMY
from tests.bot.alerts_kit import HB_KEY, am_group, post, start_alerting
from tests.bot.bridge_kit import FAST, INCIDENTS
from tests.bot.crash_kit import restart_in_process
from tests.bot.paging_kit import START, Clock, root_of, sms_texts
from tests.bot.slack_steps import slash
from tests.clocks import wait_until


async def test_a_retry_finishes_a_start_cut_off_before_its_page(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock, alerts=STORMY)
    try:
        body = am_group()
        cut_off = NewAlertGroup(
            "ACUTOFF0000000001", "prod-am", group_hash(body["groupKey"]), body["groupKey"],
            "db-outage", "[critical] Postgres primary is down", "{}", START, INCIDENTS,
        )  # fmt: skip
        first = AlertNote("prod-am", cut_off.group_hash, START, "{}", lambda _: (cut_off, None))
        # Recorded as the batch records a storm-limited group (its page to start after)...
        (recorded,) = await bridge.runtime.store.record_alert_notes([first])
        assert recorded.created
        assert recorded.group is not None
        assert recorded.group.page_id is None
        # ...and then the process died before it started the page.
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


async def test_a_silence_and_a_missed_heartbeat_survive_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    extra = (
        "\nheartbeats:\n  watchdog:\n    key: ${HB_KEY}\n    every: 1m\n    grace: 2m\n"
        f"    escalation: db-outage\n    announce_in: {INCIDENTS}\n"
    )
    bridge = await start_alerting(tmp_path, clock, extra=extra)
    try:
        made = await slash(bridge, "silence prod-am 1h alertname=PostgresDown")
        assert "Silenced" in made.text
        clock.advance(timedelta(minutes=3))
        await bridge.runtime.paging.tick()
        await wait_until(lambda: sms_texts(bridge), what="the heartbeat's page")
        (missed,) = await bridge.runtime.store.active_pages()
        options = replace(FAST, clock=clock, page_tick=3600)
        bridge.world = await restart_in_process(bridge.world, tmp_path, options)

        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        (firing,), _ = await bridge.runtime.store.firing_alert_groups(5)
        assert firing.group.silence_id is not None  # the silence held after the restart
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert [p.page_id for p in await bridge.runtime.store.active_pages()] == [missed.page_id]
        assert len(sms_texts(bridge)) == 1  # no second page for the same miss
        assert (await post(bridge, "/heartbeat/watchdog", key=HB_KEY, raw=b"")).status == 200
        assert await bridge.runtime.store.active_pages() == []  # the ping ended it
    finally:
        await bridge.world.close()
