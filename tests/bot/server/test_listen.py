"""Where ``serve`` listens (issue 15 item 5): HOST picks the address (every interface when unset),
and METRICS_PORT moves /metrics off the public port, probes answering on both."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.server.env import EnvError, read_env
from tests.bot.crash_kit import CRASH_CONFIG, REPO, BridgeProcess, CrashRig, free_port, start_rig
from tests.bot.probe_kit import probe


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[CrashRig]:
    running = await start_rig(tmp_path, latency=0)
    try:
        yield running
    finally:
        await running.close()


async def launch(rig: CrashRig, **env: str) -> BridgeProcess:
    config = rig.tmp / "bridge.yaml"
    config.write_text(CRASH_CONFIG, encoding="utf-8")
    log = rig.tmp / "bridge.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "serve",
            env={**rig.env(), **env}, cwd=REPO, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    child = BridgeProcess(proc, rig.url, log)
    rig.children.append(child)
    return child


async def test_host_and_a_metrics_port_of_its_own(rig: CrashRig) -> None:
    metrics_port = free_port()
    child = await launch(rig, HOST="127.0.0.1", METRICS_PORT=str(metrics_port))
    await child.healthy()
    ops = f"http://127.0.0.1:{metrics_port}"
    status, _, text = await probe(ops, "/metrics")
    assert status == 200
    assert "bridge_requests_total" in text
    assert (await probe(rig.url, "/metrics"))[0] == 404  # no longer on the public port
    for base in (rig.url, ops):
        assert (await probe(base, "/readyz"))[0] == 200
        assert (await probe(base, "/livez"))[0] == 200
    assert await child.stop() == 0


@pytest.mark.skipif(sys.platform != "linux", reason="127.0.0.2 is loopback only on Linux")
async def test_host_binds_that_address_only(rig: CrashRig) -> None:
    child = await launch(rig, HOST="127.0.0.2")
    child.url = f"http://127.0.0.2:{rig.port}"
    await child.healthy()
    with pytest.raises(aiohttp.ClientConnectionError):
        await probe(rig.url, "/livez")  # 127.0.0.1: nothing listens there
    assert await child.stop() == 0


async def test_a_host_that_cannot_be_had_is_one_line(rig: CrashRig) -> None:
    child = await launch(rig, HOST="192.0.2.1")  # TEST-NET-1: never this machine's
    assert await asyncio.wait_for(child.proc.wait(), 30) == 1
    lines = child.tail().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: cannot listen on 192.0.2.1 port")
    assert "HOST" in lines[0]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"METRICS_PORT": "metrics"}, "METRICS_PORT must be a port number"),
        ({"PORT": "70000"}, "PORT must be a port number"),
        ({"PORT": "3000", "METRICS_PORT": "3000"}, "METRICS_PORT is 3000, the same as PORT"),
    ],
)
def test_ports_are_checked(env: dict[str, str], says: str) -> None:
    with pytest.raises(EnvError, match=says):
        read_env(env)


def test_host_defaults_to_every_interface_and_the_metrics_host_to_host() -> None:
    assert read_env({}).host is None
    assert read_env({}).metrics_port is None
    env = read_env({"HOST": "10.0.0.5", "METRICS_PORT": "9100"})
    assert (env.host, env.metrics_host, env.metrics_port) == ("10.0.0.5", "10.0.0.5", 9100)
    assert read_env({"HOST": "10.0.0.5", "METRICS_HOST": "127.0.0.1"}).metrics_host == "127.0.0.1"
