"""/livez, /readyz and /healthz (issue 15 item 5): ready only while the runtime is open, the store
answers and Slack has accepted the bot token; live while the process serves; and no probe shows
what an outsider should not learn (config path, account names, replica id).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from bridge_sandbox.emulators.common import serve

from bot.server.probes import build_ops_app
from bot.server.web import SLOT
from tests.bot.bridge_kit import Bridge, start_bridge
from tests.bot.probe_kit import Relay, assemble, probe

PROBES = ("/livez", "/readyz", "/healthz")


def assert_says_nothing_private(bridge: Bridge, text: str) -> None:
    assert str(bridge.settings.source) not in text
    assert bridge.settings.source.name not in text
    assert bridge.runtime.service.ownership.replica_id not in text
    for account in bridge.settings.providers:
        assert f'"{account}"' not in text


async def test_a_healthy_bridge_is_live_and_ready(bridge: Bridge) -> None:
    url = bridge.world.bridge.url
    assert (await probe(url, "/livez"))[:2] == (200, {"ok": True})
    status, body, _ = await probe(url, "/readyz")
    assert status == 200
    assert body == {"ready": True, "checks": {"runtime": "open", "store": "ok", "slack": "ok"}}
    for path in PROBES:
        assert_says_nothing_private(bridge, (await probe(url, path))[2])


async def test_a_closed_sqlite_store_is_not_ready_yet_still_live(bridge: Bridge) -> None:
    url = bridge.world.bridge.url
    await bridge.runtime.store.close()
    status, body, _ = await probe(url, "/readyz")
    assert status == 503
    assert body["ready"] is False
    assert body["checks"]["store"] == "unreachable"
    assert (await probe(url, "/livez"))[0] == 200  # a restart would not cure the store
    status, body, text = await probe(url, "/healthz")
    assert status == 200  # README, Operations: liveness and config loaded
    assert body["ready"] is False
    assert body["store"] == {"kind": "sqlite", "reachable": False}
    assert_says_nothing_private(bridge, text)


async def test_a_postgresql_server_that_goes_away_makes_the_replica_not_ready(
    tmp_path: Path, postgres_url: str
) -> None:
    """The database behind a relay the test cuts: 503 while it is gone, 200 once it is back."""
    parts = urlsplit(postgres_url)
    relay = await Relay((parts.hostname or "127.0.0.1", parts.port or 5432)).start()
    schema = f"bridge_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_url, timeout=10)
    await admin.execute(f"CREATE SCHEMA {schema}")
    through_relay = parts._replace(netloc=f"{parts.username}@127.0.0.1:{relay.port}").geturl()
    db = f"{through_relay}{'&' if '?' in through_relay else '?'}search_path={schema}"
    bridge = await start_bridge(tmp_path, extra_env={"BRIDGE_DB": db})
    try:
        url = bridge.world.bridge.url
        assert (await probe(url, "/readyz"))[0] == 200
        await relay.cut()
        status, body, _ = await probe(url, "/readyz")
        assert (status, body["checks"]["store"]) == (503, "unreachable")
        status, body, text = await probe(url, "/healthz")
        assert status == 200
        assert body["store"] == {"kind": "postgresql", "reachable": False}
        assert "127.0.0.1" not in text  # nor where the database lives
        await relay.restore()
        assert (await probe(url, "/readyz"))[0] == 200
    finally:
        if not relay.listening:
            await relay.restore()  # the bridge closes on a store that answers
        await bridge.world.close()
        await relay.cut()
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


async def test_the_metrics_port_says_starting_then_ready_then_stopping(tmp_path: Path) -> None:
    """With METRICS_PORT, /metrics and the probes answer there before the runtime opens and
    after it closes; the main port no longer serves /metrics."""
    parts = await assemble(tmp_path, {"METRICS_PORT": "0"})
    app = parts.app()
    ops = await serve(build_ops_app(app[SLOT]))
    try:
        status, body, _ = await probe(ops.url, "/readyz")
        assert (status, body) == (503, {"ready": False, "checks": {"runtime": "starting"}})
        assert (await probe(ops.url, "/livez"))[0] == 200
        assert (await probe(ops.url, "/metrics"))[0] == 200

        main = await serve(app)
        try:
            assert (await probe(ops.url, "/readyz"))[0] == 200
            assert (await probe(main.url, "/readyz"))[0] == 200
            assert (await probe(main.url, "/metrics"))[0] == 404
        finally:
            await main.close()
        status, body, _ = await probe(ops.url, "/readyz")
        assert (status, body) == (503, {"ready": False, "checks": {"runtime": "stopping"}})
        assert (await probe(ops.url, "/livez"))[0] == 200
    finally:
        await ops.close()
        await parts.close()


async def test_without_a_metrics_port_metrics_stay_on_the_main_port(bridge: Bridge) -> None:
    assert (await probe(bridge.world.bridge.url, "/metrics"))[0] == 200
