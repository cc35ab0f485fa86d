"""One alert group delivered to two real ``python -m bot serve`` replicas on one PostgreSQL at
once (Alertmanager retries, a load balancer spreads them) starts one page and pages once; its
resolve, at either replica, ends it. A silence typed at one replica holds at the other; a storm
split across both starts exactly ``max_pages`` pages and one storm page. Skipped without
``BRIDGE_TEST_POSTGRES_URL``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.alerts_kit import AM_KEY, am_group
from tests.bot.crash_kit import ALICE, CROWD, INCIDENTS
from tests.bot.replica_kit import ReplicaRig, replica_config, start_replica_rig
from tests.bot.store_backends import PostgresBackend

ALERTING = f"""
  page-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allow_adhoc: true
    allowed_senders: [sre]

people:
  alice: {{phone: "+254712345678", slack: {ALICE}}}

escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {{notify: [alice], via: [page-sms], wait: 5m}}

integrations:
  prod-am:
    kind: alertmanager
    key: ${{AM_KEY}}
    announce_in: {INCIDENTS}
    allowed_senders: [sre]
    routes:
      - escalation: db-outage
    storm: {{max_pages: 3, per: 1h}}
"""


@pytest.fixture
async def rig(
    tmp_path: Path, postgres_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ReplicaRig]:
    monkeypatch.setenv("AM_KEY", AM_KEY)  # the replicas' environment is this one's
    config = replica_config(CROWD, confirm_over=50) + ALERTING
    running = await start_replica_rig(tmp_path, postgres_backend.target, config, latency=0.05)
    try:
        yield running
    finally:
        await running.close()


async def deliver(url: str, body: dict[str, Any]) -> int:
    headers = {"Authorization": f"Bearer {AM_KEY}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        http.post(url + "/alerts/prod-am", data=json.dumps(body), headers=headers) as response,
    ):
        return response.status


async def test_one_group_at_two_replicas_at_once_starts_one_page(rig: ReplicaRig) -> None:
    one, two = await rig.start(2)
    statuses = await asyncio.gather(
        *(deliver((one if i % 2 else two).url, am_group()) for i in range(20))
    )
    assert statuses == [202] * 20
    pages = await rig.fetch("SELECT page_id, state FROM pages")
    assert len(pages) == 1
    groups = await rig.fetch("SELECT count, page_id, state FROM alert_groups")
    assert [(g["count"], g["page_id"], g["state"]) for g in groups] == [
        (20, pages[0]["page_id"], "firing")
    ]
    await rig.when(
        "SELECT 1 FROM page_sends", lambda rows: len(rows) == 1, what="step 1's send recorded"
    )
    await asyncio.sleep(0.5)  # room for a second SMS, were one to go
    assert rig.requested() == {"254712345678": 1}

    assert await deliver(two.url, am_group("resolved")) == 202
    ended = await rig.fetch("SELECT state, acknowledged_by FROM pages")
    assert [(r["state"], r["acknowledged_by"]) for r in ended] == [("ended", "source:prod-am")]


async def test_a_silence_typed_at_one_replica_holds_at_the_other(rig: ReplicaRig) -> None:
    one, two = await rig.start(2)
    assert await rig.slash(one, "silence prod-am 1h alertname=PostgresDown maintenance") == 200
    await rig.when(
        "SELECT 1 FROM alert_silences", lambda rows: len(rows) == 1, what="the silence recorded"
    )
    assert await deliver(two.url, am_group()) == 202
    groups = await rig.fetch("SELECT silence_id, page_id FROM alert_groups")
    assert len(groups) == 1
    assert groups[0]["silence_id"] is not None
    assert groups[0]["page_id"] is None
    await asyncio.sleep(0.5)  # room for an SMS, were one to go
    assert await rig.fetch("SELECT page_id FROM pages") == []
    assert rig.requested() == {}


async def test_a_storm_split_across_replicas_pages_max_pages_and_one_storm(
    rig: ReplicaRig,
) -> None:
    one, two = await rig.start(2)
    statuses = await asyncio.gather(
        *(deliver((one if n % 2 else two).url, am_group(key=f"storm-{n}")) for n in range(12))
    )
    assert statuses == [202] * 12
    pages = await rig.fetch("SELECT idempotency_key FROM pages")
    keys = sorted(p["idempotency_key"].split(":")[0] for p in pages)
    assert keys == ["alert", "alert", "alert", "storm"]
    groups = await rig.fetch("SELECT page_id FROM alert_groups")
    assert len(groups) == 12
    assert all(g["page_id"] is not None for g in groups)
    await rig.when("SELECT 1 FROM page_sends", lambda rows: len(rows) == 4, what="four first steps")
