"""A heartbeat watched by two real ``python -m bot serve`` replicas on one PostgreSQL: when its
pings stop, both schedulers see it late and exactly one page starts and pages once; a ping at
either replica ends it. Skipped without ``BRIDGE_TEST_POSTGRES_URL``.

The replicas run on the real clock (a second's ``every`` and ``grace``): the test waits for
what the store says, never for a time window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.bot.alerts.test_alerts_replicas import ALERTING
from tests.bot.alerts_kit import AM_KEY, HB_KEY
from tests.bot.crash_kit import CROWD, INCIDENTS
from tests.bot.replica_kit import ReplicaRig, replica_config, start_replica_rig
from tests.bot.store_backends import PostgresBackend

HEARTBEAT = f"""
heartbeats:
  watchdog:
    key: ${{HB_KEY}}
    every: 1s
    grace: 1s
    escalation: db-outage
    announce_in: {INCIDENTS}
"""


@pytest.fixture
async def rig(
    tmp_path: Path, postgres_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ReplicaRig]:
    monkeypatch.setenv("AM_KEY", AM_KEY)
    monkeypatch.setenv("HB_KEY", HB_KEY)
    config = replica_config(CROWD, confirm_over=50) + ALERTING + HEARTBEAT
    running = await start_replica_rig(tmp_path, postgres_backend.target, config, latency=0.05)
    try:
        yield running
    finally:
        await running.close()


async def ping(url: str) -> int:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        http.post(
            url + "/heartbeat/watchdog", headers={"Authorization": f"Bearer {HB_KEY}"}
        ) as response,
    ):
        return response.status


async def test_two_replicas_start_one_page_for_a_missed_heartbeat(rig: ReplicaRig) -> None:
    one, two = await rig.start(2)
    assert await ping(one.url) == 200
    await rig.when(
        "SELECT 1 FROM heartbeats WHERE state = 'missed'",
        lambda rows: len(rows) == 1,
        what="the heartbeat missed",
    )
    await rig.when(
        "SELECT 1 FROM page_sends", lambda rows: len(rows) == 1, what="step 1's send recorded"
    )
    await asyncio.sleep(1.5)  # both schedulers tick again: room for a second page, were one made
    pages = await rig.fetch("SELECT page_id, idempotency_key, state FROM pages")
    assert len(pages) == 1
    assert pages[0]["idempotency_key"].startswith("heartbeat:watchdog:")
    assert rig.requested() == {"254712345678": 1}

    assert await ping(two.url) == 200
    ended = await rig.fetch("SELECT state FROM pages WHERE page_id = $1", pages[0]["page_id"])
    assert [r["state"] for r in ended] == ["ended"]
