"""What ``bench/alerts.py`` runs on: real ``python -m bot serve`` processes with one Alertmanager
integration (critical pages one person by SMS, warning posts in Slack only), the sandbox Slack
and a TalkNTalk emulator in the bench's process, a client posting Alertmanager notifications
and timing each answer, and the send record read afterwards as an outsider (SQL, not the
bridge's code).

Why real processes: the bench's load generator must not share the bridge's event loop, or its
own work would show up as the bridge's latency.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from tests.bot.crash_kit import ALICE, INCIDENTS
from tests.bot.replica_kit import ReplicaRig, start_replica_rig

KEY_ENV = "BENCH_ALERTS_KEY"
KEY = "bench-alerts-key-4c7e1a9f2b"
INTEGRATION = "bench-am"
PHONE = "+254712345678"

CONFIG = f"""\
defaults:
  country: KE

providers:
  tnt:
    type: talkntalk
    api_key: ${{TALKNTALK_API_KEY}}
    base_url: ${{TNT_URL}}
    timeout_seconds: 10
    rate_per_minute: 600000
    max_concurrency: 64

senders:
  sre: [{ALICE}]

channels:
  page-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allowed_senders: [sre]
    allow_adhoc: true

people:
  oncall: {{phone: "{PHONE}", slack: {ALICE}}}

escalations:
  bench:
    allowed_senders: [sre]
    steps:
      - {{notify: [oncall], via: [page-sms], wait: 1h}}  # one SMS per page within the bench

integrations:
  {INTEGRATION}:
    kind: alertmanager
    key: ${{{KEY_ENV}}}
    announce_in: {INCIDENTS}
    allowed_senders: [sre]
    routes:
      - match: {{severity: critical}}
        escalation: bench
      - match: {{severity: warning}}
        page: false
"""


def notification(group: str, status: str, severity: str, summary: str) -> dict[str, Any]:
    """An Alertmanager webhook (version 4) for one group of one alert."""
    labels = {"alertname": group, "severity": severity, "job": "bench"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "chatops-bridge",
        "groupLabels": {"alertname": group},
        "commonLabels": labels,
        "commonAnnotations": {"summary": summary},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": summary},
                "startsAt": "2026-11-24T02:59:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph",
                "fingerprint": uuid.uuid5(uuid.NAMESPACE_OID, group).hex[:16],
            }
        ],
    }


@dataclass
class Answers:
    """Every answer the client got: status counts and seconds from send to answer."""

    statuses: dict[int, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    failed: int = 0  # no answer at all (connection refused or cut): the source sends it again
    # Seconds by what the notification was (a group's first, a repeat, a resolve), and when it
    # was sent (seconds since the first): where a slow tail comes from.
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    sent_at: list[float] = field(default_factory=list)

    def add(self, status: int, seconds: float, kind: str = "", at: float = 0.0) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.seconds.append(seconds)
        self.sent_at.append(at)
        self.by_kind.setdefault(kind, []).append(seconds)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


class Poster:
    """Posts notifications with the integration's bearer key over one pooled session."""

    def __init__(self) -> None:
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10),
            connector=aiohttp.TCPConnector(limit=256),
        )
        self.headers = {"Authorization": f"Bearer {KEY}"}

    async def post(
        self, base: str, body: dict[str, Any], answers: Answers, kind: str = ""
    ) -> int | None:
        """The status, or None when no answer came (a dead replica)."""
        started = time.monotonic()
        try:
            async with self.session.post(
                f"{base}/alerts/{INTEGRATION}", json=body, headers=self.headers
            ) as response:
                await response.read()
                answers.add(response.status, time.monotonic() - started, kind, started)
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            answers.failed += 1
            return None

    async def close(self) -> None:
        await self.session.close()


@dataclass
class Record:
    """The send record as read after a run."""

    groups: list[dict[str, Any]]  # alert_groups: group_key, state, count, page_id
    pages: list[dict[str, Any]]  # pages: page_id, state, idempotency_key


Reader = Callable[[], Awaitable[Record]]


@asynccontextmanager
async def bridges(
    tmp: Path, store: str, pg_url: str, count: int, storm_limit: int | None = None
) -> AsyncIterator[tuple[ReplicaRig, list[str], Reader]]:
    """``count`` serve processes on one store ("sqlite": a file, one process; "postgresql": a
    schema of its own, dropped after), the rig, their URLs, and a reader of the record.
    ``storm_limit``: the integration's ``storm.max_pages`` within an hour (None: no limit)."""
    os.environ[KEY_ENV] = KEY  # the replicas' environment is this one's plus the rig's
    os.environ["BRIDGE_PUBLIC_URL"] = "https://bridge.example"
    admin = None
    if store == "postgresql":
        schema = f"bench_alerts_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(pg_url, timeout=10)
        await admin.execute(f"CREATE SCHEMA {schema}")
        db = f"{pg_url}{'&' if '?' in pg_url else '?'}search_path={schema}"
    else:
        db = str(tmp / "bridge.db")
    config = CONFIG
    if storm_limit is not None:
        config = config.replace(
            "    kind: alertmanager\n",
            f"    kind: alertmanager\n    storm: {{max_pages: {storm_limit}, per: 1h}}\n",
        )
    rig = await start_replica_rig(tmp, db, config, latency=0.05)

    async def read() -> Record:
        groups_sql = "SELECT group_key, state, count, page_id FROM alert_groups"
        pages_sql = "SELECT page_id, state, idempotency_key FROM pages"
        if store == "postgresql":
            return Record(await rig.fetch(groups_sql), await rig.fetch(pages_sql))
        return await asyncio.to_thread(_read_sqlite, db, groups_sql, pages_sql)

    try:
        replicas = await rig.start(count)
        yield rig, [r.url for r in replicas], read
    finally:
        await rig.close()
        if admin is not None:
            await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await admin.close()


def _read_sqlite(path: str, groups_sql: str, pages_sql: str) -> Record:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        groups = [dict(r) for r in conn.execute(groups_sql)]
        pages = [dict(r) for r in conn.execute(pages_sql)]
    finally:
        conn.close()
    return Record(groups, pages)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    version = ".".join(str(v) for v in sys.version_info[:3])
    return f"Python {version}; load average {load} on {os.cpu_count()} CPUs"
