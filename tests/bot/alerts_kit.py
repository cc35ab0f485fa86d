"""A paging bridge with integrations, and a client that posts to its alert endpoints.

Why the scheduler loop sleeps here (``page_tick`` an hour): an alert's page must start at once,
from the request, not at a tick; the test runs any later tick itself on its clock.
"""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from tests.bot.bridge_kit import CONFIG, FAST, INCIDENTS, Bridge, start_bridge
from tests.bot.paging_kit import PAGING, PUBLIC, Clock

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
AM_KEY = "am-key-7f3a9c1e5b2d4f60"
GF_KEY = "gf-key-0b8d6e2a4c1f3e57"
PD_KEY = "pd-key-9e1c3a5b7d2f4a68"
HB_KEY = "hb-key-5d2e8a1c9f3b7e40"
KEYS = {"AM_KEY": AM_KEY, "GF_KEY": GF_KEY, "PD_KEY": PD_KEY, "HB_KEY": HB_KEY}

ALERTS = f"""
integrations:
  prod-am:
    kind: alertmanager
    key: ${{AM_KEY}}
    announce_in: {INCIDENTS}
    allowed_senders: [sre]
    routes:
      - match: {{severity: critical}}
        escalation: db-outage
      - match: {{severity: warning}}
        page: false
  grafana:
    kind: grafana
    key: ${{GF_KEY}}
    announce_in: {INCIDENTS}
    allowed_senders: [sre]
    routes:
      - escalation: db-outage
        severity: high
  uptime:
    kind: events-v2
    key: ${{PD_KEY}}
    announce_in: {INCIDENTS}
    allowed_senders: [sre]
    routes:
      - escalation: db-outage
"""


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def am_group(status: str = "firing", key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(fixture("alertmanager-v4-firing.json"))
    body["status"] = status
    for alert in body["alerts"]:
        alert["status"] = status
        if status == "resolved":
            alert["endsAt"] = "2026-11-24T03:10:00Z"
    if key is not None:
        body["groupKey"] = key
    return body


def event(action: str = "trigger", dedup_key: str | None = "samplekeyhere") -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(fixture("events-v2-trigger.json"))
    body["routing_key"] = PD_KEY
    body["event_action"] = action
    if dedup_key is None:
        body.pop("dedup_key")
    else:
        body["dedup_key"] = dedup_key
    return body


async def start_alerting(
    tmp_path: Path, clock: Clock, extra: str = "", alerts: str = ALERTS, gap: float = 0.0
) -> Bridge:
    """``alerts``: the ``integrations:`` section (``ALERTS`` changed by the test); ``gap``: the
    alert update gap (0 here: every repeat updates Slack at once; tests of the gap set theirs)."""
    options = replace(FAST, clock=clock, page_tick=3600, alert_update_gap=gap)
    return await start_bridge(
        tmp_path,
        config_text=CONFIG + PAGING + alerts + extra,
        options=options,
        extra_env={"BRIDGE_PUBLIC_URL": PUBLIC, **KEYS},
    )


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


async def post(
    bridge: Bridge,
    path: str,
    body: Any = None,
    *,
    key: str | None = AM_KEY,
    raw: bytes | None = None,
) -> Answer:
    """POST ``body`` as JSON (or ``raw`` bytes) with ``key`` as the Bearer token (None: none)."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = io.BytesIO(raw if raw is not None else json.dumps(body).encode())
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(bridge.world.bridge.url + path, data=data, headers=headers) as response,
    ):
        text = await response.text()
        try:
            parsed: Any = json.loads(text)
        except json.JSONDecodeError:
            parsed = text
        return Answer(response.status, parsed)
