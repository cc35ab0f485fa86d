"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) as a child process.

Why the real one: the bridge must take what Alertmanager actually sends (its grouping, its
``groupKey``, ``send_resolved``, its bearer header, its retries), not only our own payloads.

It listens on loopback only (a free port, clustering off, its storage in the test's tmp dir),
and its one receiver is a webhook to the bridge under test. No binary: the tests skip, saying
how to install it, unless ``BRIDGE_REQUIRE_ALERTMANAGER=1`` (``.ci/run`` sets it), when they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import aiohttp
import pytest

REQUIRE_ENV = "BRIDGE_REQUIRE_ALERTMANAGER"
BINARY_ENV = "BRIDGE_ALERTMANAGER"
HOW_TO_INSTALL = (
    "Alertmanager tests skipped: no prometheus-alertmanager found; install it with "
    f"`apt-get install prometheus-alertmanager` (or set {BINARY_ENV} to its path) to run them"
)
START_SECONDS = 60.0  # a loaded machine starts it slowly; only a real hang reaches this


def find_alertmanager() -> str | None:
    """``$BRIDGE_ALERTMANAGER``, else Debian's ``prometheus-alertmanager`` on PATH or in
    /usr/bin, else an ``alertmanager`` on PATH."""
    configured = os.environ.get(BINARY_ENV)
    if configured:
        return configured if Path(configured).is_file() else None
    return (
        shutil.which("prometheus-alertmanager")
        or shutil.which("prometheus-alertmanager", path="/usr/bin")
        or shutil.which("alertmanager")
    )


def alertmanager_or_skip() -> str:
    """The binary's path; else skip the test (saying how to install it), or fail it where
    Alertmanager is required. Called first, before the test starts anything."""
    binary = find_alertmanager()
    if binary is None:
        _no_alertmanager()
    return binary


def _no_alertmanager() -> NoReturn:
    if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        pytest.fail(
            f"{REQUIRE_ENV}=1 but no prometheus-alertmanager was found: "
            "install it with `apt-get install prometheus-alertmanager`"
        )
    pytest.skip(HOW_TO_INSTALL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def config_yaml(webhook_url: str, key: str) -> str:
    """One route and one webhook receiver, as README's Alertmanager block, with timings of
    a second so a test sees the first, repeated and resolved notifications quickly."""
    return json.dumps(  # JSON is YAML: no quoting to get wrong
        {
            "route": {
                "receiver": "chatops-bridge",
                "group_by": ["alertname"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "2s",
            },
            "receivers": [
                {
                    "name": "chatops-bridge",
                    "webhook_configs": [
                        {
                            "url": webhook_url,
                            "send_resolved": True,
                            "http_config": {
                                "authorization": {"type": "Bearer", "credentials": key}
                            },
                        }
                    ],
                }
            ],
        },
        indent=2,
    )


@dataclass(frozen=True)
class Alertmanager:
    url: str  # its API base, http://127.0.0.1:<port>

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """``POST /api/v2/alerts``, as Prometheus sends them."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(f"{self.url}/api/v2/alerts", json=alerts) as response,
        ):
            text = await response.text()
            assert response.status == 200, f"Alertmanager refused the alerts: {text[:300]}"

    async def ready(self) -> bool:
        timeout = aiohttp.ClientTimeout(total=2)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(f"{self.url}/-/ready") as response,
            ):
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


def _write_config(workdir: Path, text: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(text, encoding="utf-8")
    return config


@asynccontextmanager
async def running_alertmanager(
    binary: str, workdir: Path, webhook_url: str, key: str
) -> AsyncIterator[Alertmanager]:
    """Start Alertmanager on a free loopback port, wait until it is ready, stop it after."""
    config = await asyncio.to_thread(_write_config, workdir, config_yaml(webhook_url, key))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "alertmanager.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={config}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url={url}",
            "--cluster.listen-address=",  # no gossip port: a lone instance on loopback
            "--log.level=info",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    manager = Alertmanager(url)
    try:

        async def up() -> None:
            while not await manager.ready():
                if process.returncode is not None:
                    raise AssertionError(
                        f"Alertmanager exited ({process.returncode}): "
                        + log_path.read_text(errors="replace")[-2000:]
                    )
                await asyncio.sleep(0.2)

        await asyncio.wait_for(up(), START_SECONDS)
        yield manager
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
