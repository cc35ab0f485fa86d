"""Canaries end to end: the scheduled test SMS to the emulator, judged by a receipt posted to the
webhook (or by its absence), a failure announced in Slack with how to fix it, and /metrics — all
on a clock the test moves, the canary tick run by the test (the loop may tick too: claims are
inserts with a unique key, so both together still send once a period)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.bot.bridge_kit import FAST, Bridge, start_bridge
from tests.bot.paging_kit import Clock
from tests.bot.receipts.test_receipts import (
    KAL_SECRET,
    RECEIPTS_CONFIG,
    TNT_SECRET,
    post_tnt,
    tnt_body,
)
from tests.bot.store_backends import PostgresBackend
from tests.clocks import wait_until

# The test clock starts at 03:00 UTC (06:00 in Nairobi): the period that began yesterday at
# 09:00 Nairobi is due at once; the next begins at 06:00 UTC.
CANARIES = """
canaries:
  sms-adhoc: {to: "+254700000099", every: 1d, at: "09:00", timezone: Africa/Nairobi,
              within: 5m, announce_in: C0OPS0001}
"""


async def start(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
    *,
    replica_id: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Bridge:
    """A bridge with the receipt webhooks' secrets and the canary, on the test's clock."""
    monkeypatch.setenv("TNT_WEBHOOK_SECRET", TNT_SECRET)
    monkeypatch.setenv("KAL_WEBHOOK_SECRET", KAL_SECRET)
    options = replace(FAST, clock=clock, page_tick=0.02, replica_id=replica_id)
    return await start_bridge(
        tmp_path, config_text=RECEIPTS_CONFIG + CANARIES, options=options, extra_env=extra_env
    )


async def metric_lines(bridge: Bridge) -> list[str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(bridge.world.bridge.url + "/metrics") as answer,
    ):
        text = await answer.text()
    return [line for line in text.splitlines() if line.startswith("bridge_channel_")]


def announced(bridge: Bridge) -> list[str]:
    return [m.text for m in bridge.channel_messages("C0OPS0001")]


async def tick(bridge: Bridge) -> None:
    assert bridge.runtime.canaries is not None
    await bridge.runtime.canaries.tick()
    await bridge.idle()


async def test_a_delivered_canary_is_healthy_and_a_dry_wallet_is_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, monkeypatch, clock)
    tnt = bridge.emulators.talkntalk
    try:
        await tick(bridge)
        await wait_until(lambda: len(tnt.deliveries) == 1, what="the canary SMS")
        (sms,) = tnt.deliveries
        assert sms.recipient == "254700000099"
        assert "a scheduled test of this path. No reply needed." in str(sms.payload)
        for _ in range(3):
            await tick(bridge)  # the same period: nothing more is sent
        assert len(tnt.deliveries) == 1
        status, _ = await post_tnt(bridge, tnt_body(sms.message_id, "delivered"))
        assert status == 200
        await tick(bridge)
        lines = await metric_lines(bridge)
        assert 'bridge_channel_healthy{channel="sms-adhoc"} 1.0' in lines
        assert any(line.startswith("bridge_channel_last_ok_timestamp_seconds{") for line in lines)
        assert announced(bridge) == []
        # Recorded like any other send.
        runs = await bridge.runtime.store.last_canaries()
        assert runs["sms-adhoc"][0].request_id is not None
        request = await bridge.runtime.store.get_request(runs["sms-adhoc"][0].request_id or "")
        assert request is not None
        assert request.idempotency_key is not None
        assert request.idempotency_key.startswith("canary:sms-adhoc:")

        # The next day's run, with the wallet empty: announced with the fix, and unhealthy.
        tnt.balance = 0
        clock.advance(timedelta(hours=3))  # 06:00 UTC = 09:00 in Nairobi
        await tick(bridge)
        await wait_until(lambda: announced(bridge), what="the announcement")
        (text,) = announced(bridge)
        assert "Canary for `sms-adhoc` failed" in text
        assert "wallet balance too low" in text
        assert "Top up the wallet of the `tnt` account" in text
        assert "+254700000099" not in text  # the number is masked
        await tick(bridge)
        assert len(announced(bridge)) == 1  # judged and announced once
        assert 'bridge_channel_healthy{channel="sms-adhoc"} 0.0' in await metric_lines(bridge)

        # The wallet topped up, the next day's run delivered: the team hears it works again.
        tnt.balance = 1000
        clock.advance(timedelta(days=1))
        await tick(bridge)
        await wait_until(lambda: len(tnt.deliveries) == 2, what="the third day's canary SMS")
        status, _ = await post_tnt(bridge, tnt_body(tnt.deliveries[-1].message_id, "delivered"))
        assert status == 200
        await tick(bridge)
        await wait_until(lambda: len(announced(bridge)) == 2, what="the recovery")
        recovered = announced(bridge)[1]
        assert "Canary for `sms-adhoc` passed again" in recovered
        assert "wallet balance too low" in recovered  # what it had failed with
        assert "+254700000099" not in recovered
        assert 'bridge_channel_healthy{channel="sms-adhoc"} 1.0' in await metric_lines(bridge)
        # A fourth good day says nothing: only a change from failing is news.
        clock.advance(timedelta(days=1))
        await tick(bridge)
        await wait_until(lambda: len(tnt.deliveries) == 3, what="the fourth day's canary SMS")
        status, _ = await post_tnt(bridge, tnt_body(tnt.deliveries[-1].message_id, "delivered"))
        assert status == 200
        await tick(bridge)
        await tick(bridge)
        assert len(announced(bridge)) == 2
    finally:
        await bridge.world.close()


async def test_a_canary_never_reported_delivered_fails_after_within(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, monkeypatch, clock)
    try:
        await tick(bridge)
        await wait_until(lambda: bridge.emulators.talkntalk.deliveries, what="the canary SMS")
        clock.advance(timedelta(minutes=4))
        await tick(bridge)
        assert announced(bridge) == []  # accepted, and still within 5m
        clock.advance(timedelta(minutes=1))
        await tick(bridge)
        await wait_until(lambda: announced(bridge), what="the announcement")
        (text,) = announced(bridge)
        assert "accepted by the provider but not reported delivered within 5m" in text
        assert "/webhooks/tnt" in text
    finally:
        await bridge.world.close()


async def test_two_replicas_on_postgresql_send_each_period_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_backend: PostgresBackend
) -> None:
    clock = Clock()
    shared = {"BRIDGE_DB": postgres_backend.target}
    replicas = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        replicas.append(
            await start(tmp_path / name, monkeypatch, clock, replica_id=name, extra_env=shared)
        )

    def sent() -> int:
        return sum(len(r.emulators.talkntalk.deliveries) for r in replicas)

    try:
        for _ in range(3):
            await asyncio.gather(*(tick(r) for r in replicas))
        await wait_until(lambda: sent() == 1, what="one canary SMS")
        clock.advance(timedelta(hours=3))  # the next day's period
        for _ in range(3):
            await asyncio.gather(*(tick(r) for r in replicas))
        await wait_until(lambda: sent() == 2, what="the next period's SMS")
        for _ in range(3):
            await asyncio.gather(*(tick(r) for r in replicas))
        assert sent() == 2
    finally:
        for replica in replicas:
            await replica.world.close()


async def test_a_run_whose_replica_died_before_sending_is_sent_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, monkeypatch, clock)
    tnt = bridge.emulators.talkntalk
    try:
        await tick(bridge)
        await wait_until(lambda: len(tnt.deliveries) == 1, what="today's canary")
        # A replica claims tomorrow's period (06:00 UTC) and dies before recording its send.
        tomorrow = clock.now + timedelta(hours=3)
        assert await bridge.runtime.store.claim_canary("sms-adhoc", tomorrow, tomorrow)
        clock.advance(timedelta(hours=3))
        await tick(bridge)
        assert len(tnt.deliveries) == 1  # its claim is still fresh: it may yet send
        clock.advance(timedelta(minutes=1))
        await tick(bridge)
        await wait_until(lambda: len(tnt.deliveries) == 2, what="the orphaned run, sent")
        await tick(bridge)
        assert len(tnt.deliveries) == 2
    finally:
        await bridge.world.close()
