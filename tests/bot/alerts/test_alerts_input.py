"""Bad input at the alert endpoints gets its exact answer, and nothing a stranger sends tells
them which integrations exist; hostile groups (hundreds of alerts, 100 KiB labels) are recorded
and shown cut; the keys never reach the log, the store, Slack or /metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import aiohttp
import pytest

from tests.bot.alerts_kit import AM_KEY, GF_KEY, KEYS, PD_KEY, am_group, event, post, start_alerting
from tests.bot.paging_kit import Clock, sms_texts
from tests.bot.send.test_key_leaks import store_bytes
from tests.clocks import wait_until


async def test_bad_inputs_get_exact_answers(tmp_path: Path) -> None:
    bridge = await start_alerting(tmp_path, Clock())
    try:
        wrong = await post(bridge, "/alerts/prod-am", am_group(), key="not-the-key")
        absent = await post(bridge, "/alerts/no-such-integration", am_group())
        missing = await post(bridge, "/alerts/prod-am", am_group(), key=None)
        other_kind = await post(bridge, "/alerts/prod-am", am_group(), key=PD_KEY)
        assert {wrong.status, absent.status, missing.status, other_kind.status} == {401}
        assert wrong.body == absent.body == missing.body == other_kind.body
        assert "missing or wrong key" in wrong.body["message"]

        broken = await post(bridge, "/alerts/prod-am", raw=b'{"groupKey": ')
        assert broken.status == 400
        assert broken.body["message"].startswith("the body is not JSON")
        body = am_group()
        del body["groupKey"]
        no_key = await post(bridge, "/alerts/prod-am", body)
        assert (no_key.status, no_key.body["message"]) == (400, "missing field 'groupKey'")
        body = am_group()
        body["alerts"] = "many"
        assert (await post(bridge, "/alerts/prod-am", body)).body["message"] == (
            "field 'alerts' must be a list"
        )
        huge = await post(bridge, "/alerts/prod-am", raw=b'{"a": "' + b"x" * (1024 * 1024) + b'"}')
        assert huge.status == 413

        unknown_action = await post(bridge, "/alerts/v2/enqueue", event("snooze"), key=None)
        assert unknown_action.status == 400
        assert "event_action" in unknown_action.body["message"]
        no_routing = event()
        del no_routing["routing_key"]
        assert (await post(bridge, "/alerts/v2/enqueue", no_routing, key=None)).body[
            "message"
        ] == "missing field 'routing_key'"
        bad_routing = {**event(), "routing_key": AM_KEY}  # another kind's key
        assert (await post(bridge, "/alerts/v2/enqueue", bad_routing, key=None)).status == 401
        no_summary = event()
        del no_summary["payload"]["summary"]
        answer = await post(bridge, "/alerts/v2/enqueue", no_summary, key=None)
        assert (answer.status, answer.body["message"]) == (400, "missing field 'payload.summary'")
        no_dedup = event("resolve", dedup_key=None)
        assert (await post(bridge, "/alerts/v2/enqueue", no_dedup, key=None)).status == 400

        await bridge.idle()
        assert sms_texts(bridge) == []  # none of it paged anyone
        assert await bridge.runtime.store.active_pages() == []
    finally:
        await bridge.world.close()


async def test_a_hostile_group_is_recorded_and_shown_cut(tmp_path: Path) -> None:
    bridge = await start_alerting(tmp_path, Clock())
    try:
        body = am_group(key="hostile")
        alert = body["alerts"][0]
        body["alerts"] = [
            {**alert, "labels": {**alert["labels"], "pod": f"pod-{i}"}} for i in range(400)
        ]
        body["commonLabels"]["blob"] = "<!channel> " + "A" * 100 * 1024
        body["commonAnnotations"]["runbook_url"] = "javascript:alert(1)"
        answer = await post(bridge, "/alerts/prod-am", body)
        assert answer.status == 202
        await wait_until(lambda: sms_texts(bridge))
        (page,) = await bridge.runtime.store.active_pages()
        group = await bridge.runtime.store.alert_group_of_page(page.page_id)
        assert group is not None
        assert len(group.detail) < 20_000  # 400 alerts and 100 KiB of label, kept bounded
        await bridge.idle()
        await wait_until(
            lambda: any("…and 380 more" in str(m.blocks) for m in bridge.channel_messages())
        )
        root = next(m for m in bridge.channel_messages() if "…and 380 more" in str(m.blocks))
        shown = json.dumps(root.blocks)
        assert "<!channel>" not in shown
        assert "&lt;!channel&gt;" in shown
        assert "javascript:" not in shown
        assert "400 firing of 400" in shown
    finally:
        await bridge.world.close()


async def test_keys_never_reach_the_log_store_slack_or_metrics(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bridge = await start_alerting(tmp_path, Clock())
    try:
        assert (await post(bridge, "/alerts/prod-am", am_group())).status == 202
        assert (await post(bridge, "/alerts/prod-am", am_group(), key=GF_KEY)).status == 401
        assert (await post(bridge, "/alerts/v2/enqueue", event(), key=None)).status == 202
        assert (await post(bridge, "/alerts/prod-am", am_group("resolved"))).status == 202
        await wait_until(lambda: len(sms_texts(bridge)) == 2)
        await bridge.idle()
        async with (
            aiohttp.ClientSession() as session,
            session.get(bridge.world.bridge.url + "/metrics") as response,
        ):
            metrics = await response.text()
        assert 'bridge_alert_notifications_total{integration="prod-am",outcome="opened"}' in metrics
        stored = store_bytes(tmp_path)
        slack = json.dumps(
            [[m.text, m.blocks] for ms in bridge.slack.messages.values() for m in ms]
        )
        for key in KEYS.values():
            assert key not in caplog.text
            assert key.encode() not in stored
            assert key not in slack
            assert key not in metrics
            assert key not in repr(bridge.settings)
    finally:
        await bridge.world.close()
