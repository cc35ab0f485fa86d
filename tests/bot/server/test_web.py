"""The HTTP endpoints beside Slack's: /healthz, /metrics, and how `serve` refuses to start."""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import deliveries, slash


async def get(bridge: Bridge, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(bridge.world.bridge.url + path) as response,
    ):
        return response.status, await response.text()


async def test_healthz_says_the_config_is_loaded_and_nothing_an_outsider_should_learn(
    bridge: Bridge,
) -> None:
    """Unauthenticated: no config path, account names or replica id (issue 15 item 5)."""
    status, body = await get(bridge, "/healthz")
    assert status == 200
    assert '"ok": true' in body
    assert '"config": "loaded"' in body
    assert '"ready": true' in body
    assert '"store": {"kind": "sqlite", "reachable": true}' in body
    assert str(bridge.settings.source) not in body
    assert bridge.settings.source.name not in body
    for account in ("ak", "kal", "tnt"):
        assert f'"{account}"' not in body
    assert bridge.runtime.service.ownership.replica_id not in body


async def test_metrics_count_requests_messages_and_provider_latency(bridge: Bridge) -> None:
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    await slash(bridge, "nowhere Disk full")  # refused: counted too
    status, text = await get(bridge, "/metrics")
    assert status == 200
    assert 'bridge_requests_total{outcome="accepted",surface="slash"}' in text
    assert 'bridge_requests_total{outcome="rejected",surface="slash"}' in text
    assert 'bridge_messages_total{outcome="sent",provider="tnt"}' in text
    assert 'bridge_provider_request_seconds_count{provider="tnt",result="ok"}' in text
    assert 'bridge_attempt_record_seconds_count{provider="tnt"}' in text
    for key in ("tnt-sandbox-key", "ak-sandbox-key", "kal-sandbox-key"):
        assert key not in text


async def test_serve_refuses_to_start_without_the_signing_secret_and_says_why(
    bridge: Bridge,
) -> None:
    env = {"PATH": "", "SLACK_BOT_TOKEN": "xoxb-1", "TNT_URL": "http://127.0.0.1:9"}
    env.update({k: "x" for k in ("TALKNTALK_API_KEY", "AUTOKONNECT_API_KEY", "KALEYRA_API_KEY")})
    env.update({"AK_URL": "http://127.0.0.1:9", "KAL_URL": "http://127.0.0.1:9"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(bridge.settings.source),
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert "SLACK_SIGNING_SECRET is not set" in err.decode()
    assert "Signing Secret" in err.decode()
