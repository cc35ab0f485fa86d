"""Alerts from monitoring end to end, through the real server on loopback, the Slack stand-in
and the SMS emulator: Alertmanager's webhook (v4), Grafana's webhook and Events API v2 start,
update and end pages; the scheduler's loop sleeps, so every SMS here left from the request."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

from bot.alerts.service import group_hash
from tests.bot.alerts_kit import (
    AM_KEY,
    GF_KEY,
    PD_KEY,
    am_group,
    event,
    fixture,
    post,
    start_alerting,
)
from tests.bot.bridge_kit import ALICE, Bridge
from tests.bot.paging_kit import Clock, root_of, sms_texts
from tests.clocks import wait_until

ALICE_PHONE = "254712345678"  # on call on primary at START


def pages_of(bridge: Bridge) -> set[str]:
    """Page ids of every root message posted (one per page)."""
    found: set[str] = set()
    for messages in bridge.slack.messages.values():
        for m in messages:
            if not m.is_reply and (hit := re.search(r"Page (P[0-9A-Z]{8})", m.text)):
                found.add(hit.group(1))
    return found


def thread_of(bridge: Bridge, page_id: str) -> str:
    root = root_of(bridge, page_id)
    return "\n".join(
        m.text
        for messages in bridge.slack.messages.values()
        for m in messages
        if m.is_reply and m.thread_ts == root.ts
    )


async def test_an_alertmanager_group_pages_at_once_and_its_resolve_ends_the_page(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        answer = await post(bridge, "/alerts/prod-am", am_group())
        assert (answer.status, answer.body["status"]) == (202, "success")
        await wait_until(lambda: sms_texts(bridge), what="the first SMS, with no tick")
        ((to, body),) = sms_texts(bridge)
        assert to == ALICE_PHONE
        assert "[critical] Postgres primary is down" in body
        (page_id,) = pages_of(bridge)
        assert f"Ack: /send ack {page_id}" in body
        await bridge.idle()
        await wait_until(lambda: "runbooks.example.com" in str(root_of(bridge, page_id).blocks))
        root = str(root_of(bridge, page_id).blocks)
        assert "`alertname=PostgresDown`" in root
        assert "<https://runbooks.example.com/postgres-down|runbook>" in root
        assert "<http://alertmanager.example.com:9093|Alertmanager>" in root  # its externalURL
        assert "prod-am" in root
        assert "seen 1×" in root

        again = await post(bridge, "/alerts/prod-am", am_group())  # a repeat, or a retry
        assert again.status == 202
        await wait_until(lambda: "seen 2×" in str(root_of(bridge, page_id).blocks))
        assert pages_of(bridge) == {page_id}
        assert len(sms_texts(bridge)) == 1  # nobody paged again

        resolved = await post(bridge, "/alerts/prod-am", am_group("resolved"))
        assert resolved.status == 202
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert page.state == "ended"  # recorded before the answer
        await wait_until(lambda: "Resolved at the source" in str(root_of(bridge, page_id).blocks))
        await wait_until(lambda: "resolved at the source (prod-am)" in thread_of(bridge, page_id))
        clock.advance(timedelta(hours=1))
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert len(sms_texts(bridge)) == 1  # no later step ran

        fires_again = await post(bridge, "/alerts/prod-am", am_group())
        assert fires_again.status == 202
        await wait_until(lambda: len(pages_of(bridge)) == 2, what="a new page")
        await wait_until(lambda: len(sms_texts(bridge)) == 2)
    finally:
        await bridge.world.close()


async def test_concurrent_deliveries_of_one_group_start_one_page(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        answers = await asyncio.gather(
            *(post(bridge, "/alerts/prod-am", am_group()) for _ in range(10))
        )
        assert [a.status for a in answers] == [202] * 10
        await wait_until(lambda: sms_texts(bridge))
        await bridge.idle()
        assert len(pages_of(bridge)) == 1
        assert len(sms_texts(bridge)) == 1
        group = await bridge.runtime.store.firing_alert_group(
            "prod-am", _hash(am_group()["groupKey"])
        )
        assert group is not None
        assert group.count == 10
    finally:
        await bridge.world.close()


def _hash(key: str) -> str:
    return group_hash(key)


async def test_a_warning_route_posts_in_slack_only(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        body = am_group(key="warn-group")
        body["commonLabels"]["severity"] = "warning"
        body["commonAnnotations"]["summary"] = "Replication lag <@here> & rising"
        assert (await post(bridge, "/alerts/prod-am", body)).status == 202
        await bridge.idle()
        await wait_until(
            lambda: any("Paged nobody" in str(m.blocks) for m in bridge.channel_messages())
        )
        shown = next(m for m in bridge.channel_messages() if "Paged nobody" in str(m.blocks))
        assert "Replication lag &lt;@here&gt; &amp; rising" in str(shown.blocks)  # escaped
        assert sms_texts(bridge) == []
        assert pages_of(bridge) == set()

        repeats = await asyncio.gather(*(post(bridge, "/alerts/prod-am", body) for _ in range(9)))
        assert [a.status for a in repeats] == [202] * 9
        await wait_until(lambda: "seen 10×" in str(bridge.channel_messages()[-1].blocks))
        await bridge.idle()
        posted = [m for m in bridge.channel_messages() if "Paged nobody" in str(m.blocks)]
        assert len(posted) == 1  # updated in place, never posted twice
    finally:
        await bridge.world.close()


async def test_a_grafana_webhook_pages_with_the_route_severity(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        answer = await post(
            bridge, "/alerts/grafana", fixture("grafana-webhook-firing.json"), key=GF_KEY
        )
        assert answer.status == 202
        await wait_until(lambda: sms_texts(bridge))
        ((_, body),) = sms_texts(bridge)
        assert "[high] This alert was triggered for zone us-1 (2 alerts)" in body
        (page_id,) = pages_of(bridge)
        await wait_until(lambda: "myrunbook.com" in str(root_of(bridge, page_id).blocks))
        root = str(root_of(bridge, page_id).blocks)
        assert "<https://play.grafana.org/alerting/1afz29v7z/edit|source>" in root
        assert "/alerting/silence/new?alertmanager=grafana" in root  # each alert's silenceURL
        assert "|silence>" in root
        assert "<https://play.grafana.org/|Grafana>" in root  # its externalURL
        assert "2 firing of 2" in root
    finally:
        await bridge.world.close()


async def test_events_v2_trigger_acknowledge_resolve(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        made = await post(bridge, "/alerts/v2/enqueue", event(dedup_key=None), key=None)
        assert made.status == 202
        assert made.body["status"] == "success"
        assert made.body["message"] == "Event processed"
        dedup_key = made.body["dedup_key"]
        assert len(dedup_key) == 32
        await wait_until(lambda: sms_texts(bridge))
        assert "[critical] DISK at 99% on machine prod-datapipe03" in sms_texts(bridge)[0][1]
        (page_id,) = pages_of(bridge)

        ack = await post(bridge, "/alerts/v2/enqueue", event("acknowledge", dedup_key), key=None)
        assert (ack.status, ack.body["dedup_key"]) == (202, dedup_key)
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert (page.state, page.acknowledged_by) == ("acknowledged", "source:uptime")
        await wait_until(lambda: "at the source" in str(root_of(bridge, page_id).blocks))

        done = await post(bridge, "/alerts/v2/enqueue", event("resolve", dedup_key), key=None)
        assert done.status == 202
        await wait_until(lambda: "resolved at the source (uptime)" in thread_of(bridge, page_id))
        second = await post(bridge, "/alerts/v2/enqueue", event(dedup_key="other"), key=None)
        assert (second.status, second.body["dedup_key"]) == (202, "other")
        await wait_until(lambda: len(pages_of(bridge)) == 2)
        assert PD_KEY not in str(bridge.slack.messages)
    finally:
        await bridge.world.close()


async def test_a_long_summary_is_cut_to_fit_never_refused(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        body = am_group(key="long")
        body["commonAnnotations"]["summary"] = "Disk full on every node " * 200
        assert (await post(bridge, "/alerts/prod-am", body, key=AM_KEY)).status == 202
        await wait_until(lambda: sms_texts(bridge))
        ((_, text),) = sms_texts(bridge)
        assert "[critical] Disk full on every node" in text
        assert "...\\nAck: /send ack P" in text  # cut before the ack, which always fits
    finally:
        await bridge.world.close()


async def test_an_alert_page_acknowledged_in_slack_then_resolved_stays_acknowledged(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        await wait_until(lambda: sms_texts(bridge))
        (page_id,) = pages_of(bridge)
        await bridge.idle()
        root = root_of(bridge, page_id)
        status, _ = await bridge.as_user(ALICE).click(root.ts, "ack_page", value=page_id)
        assert status == 200
        await wait_until(lambda: "Acknowledged" in str(root_of(bridge, page_id).blocks))
        assert (await post(bridge, "/alerts/prod-am", am_group("resolved"))).status == 202
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert (page.state, page.acknowledged_by) == ("acknowledged", f"slack:{ALICE}")
        await wait_until(lambda: "Resolved at the source" in str(root_of(bridge, page_id).blocks))
        await wait_until(lambda: "resolved at the source (prod-am)" in thread_of(bridge, page_id))
        assert "no later step runs" not in thread_of(bridge, page_id)  # it had stopped already
    finally:
        await bridge.world.close()
