"""Several real ``python -m bot serve`` replicas on one PostgreSQL schema, for the multi-replica
tests and ``bench/takeover.py``: the sandbox Slack and a TalkNTalk emulator run in this process,
each replica is a child process on its own port (same config, same ``BRIDGE_DB``, same secrets),
and any of them can be SIGKILLed.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from bridge_sandbox.emulators.common import RunningServer, serve
from bridge_sandbox.emulators.talkntalk import TalkNTalkState, create_app
from bridge_sandbox.slack import SlackSandbox, payloads, start_slack_sandbox
from bridge_sandbox.slack.user import send_to_app
from bridge_sandbox.world import KEYS, SIGNING_SECRET

from tests.bot.crash_kit import ALICE, INCIDENTS, BridgeProcess, free_port

REPO = Path(__file__).resolve().parents[2]


def replica_config(
    numbers: list[str], *, confirm_over: int, concurrency: int = 2, takeover_after: str = "2s"
) -> str:
    listed = ", ".join(f'"{n}"' for n in numbers)
    return f"""\
defaults:
  country: KE
  confirm_over: {confirm_over}
  max_recipients: {max(100, len(numbers))}
  takeover_after: {takeover_after}  # short, so a dead replica is replaced quickly in tests

providers:
  tnt:
    type: talkntalk
    api_key: ${{TALKNTALK_API_KEY}}
    base_url: ${{TNT_URL}}
    timeout_seconds: 10
    rate_per_minute: 600000
    max_concurrency: {concurrency}

contacts:
  crowd: [{listed}]

senders:
  sre: [{ALICE}]

channels:
  crowd-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    to: [crowd]
    allowed_senders: [sre]
"""


OWNED_BY = re.compile(r'^bridge_sends_owned\{replica="([^"]+)"\}', re.MULTILINE)


@dataclass
class Replica:
    process: BridgeProcess
    replica_id: str

    @property
    def url(self) -> str:
        return self.process.url


@dataclass
class ReplicaRig:
    """One PostgreSQL schema, sandbox Slack, a TalkNTalk emulator; replicas as children."""

    tmp: Path
    db: str  # BRIDGE_DB: the test schema's URL
    slack: SlackSandbox
    tnt: TalkNTalkState
    tnt_server: RunningServer
    config_text: str
    replicas: list[Replica] = field(default_factory=list)

    def env(self, port: int) -> dict[str, str]:
        return {
            **os.environ, **KEYS, "TNT_URL": self.tnt_server.url, "PORT": str(port),
            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_BOT_TOKEN": self.slack.state.bot_token,
            "SLACK_API_URL": self.slack.api_url, "BRIDGE_DB": self.db, "LOG_LEVEL": "WARNING",
        }  # fmt: skip

    async def start(self, count: int) -> list[Replica]:
        config = self.tmp / "bridge.yaml"
        config.write_text(self.config_text, encoding="utf-8")
        started = []
        for _ in range(count):
            port = free_port()
            log = self.tmp / f"replica-{len(self.replicas) + 1}.log"
            with log.open("wb") as out:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "--config", str(config), "serve",
                    env=self.env(port), cwd=REPO, stdout=out, stderr=asyncio.subprocess.STDOUT,
                )  # fmt: skip
            child = BridgeProcess(proc, f"http://127.0.0.1:{port}", log)
            await child.healthy(timeout=30)
            # Its id is on /metrics (an operator's view), no longer on the public /healthz.
            async with (
                aiohttp.ClientSession() as http,
                http.get(child.url + "/metrics") as response,
            ):
                owned = OWNED_BY.search(await response.text())
            assert owned is not None, "no bridge_sends_owned sample on /metrics"
            replica = Replica(child, owned.group(1))
            self.replicas.append(replica)
            started.append(replica)
        return started

    async def slash(self, replica: Replica, text: str, retry_num: int | None = None) -> int:
        body = payloads.slash_command(
            self.slack.state, "/send", text, user=ALICE, channel=INCIDENTS
        )
        status, _ = await send_to_app(replica.url, body, SIGNING_SECRET, retry_num)
        return status

    async def post(self, replica: Replica, body: bytes, retry_num: int | None = None) -> int:
        status, _ = await send_to_app(replica.url, body, SIGNING_SECRET, retry_num)
        return status

    async def metric(self, replica: Replica, name: str) -> float:
        """The sum of a metric's samples on one replica's /metrics (0 if it has none)."""
        async with (
            aiohttp.ClientSession() as http,
            http.get(replica.url + "/metrics") as response,
        ):
            text = await response.text()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name + "{") or line.startswith(name + " ")
        )

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(self.db, timeout=10)
        try:
            return [dict(row) for row in await conn.fetch(sql, *args, timeout=30)]
        finally:
            await conn.close()

    async def when(
        self,
        sql: str,
        probe: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 30.0,  # noqa: ASYNC109 - a polling deadline
        what: str = "condition",
    ) -> list[dict[str, Any]]:
        """Poll ``sql`` until ``probe`` holds on its rows; TimeoutError naming ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            rows = await self.fetch(sql)
            if probe(rows):
                return rows
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what} not reached within {timeout:g} s")
            await asyncio.sleep(0.05)

    def requested(self) -> Counter[str]:
        return Counter(r.body["mobile"] for r in self.tnt.requests if isinstance(r.body, dict))

    def delivered(self) -> Counter[str]:
        return Counter(d.recipient for d in self.tnt.deliveries)

    async def close(self) -> None:
        for replica in self.replicas:
            await replica.process.kill()
        await self.slack.close()
        await self.tnt_server.close()


async def start_replica_rig(tmp: Path, db: str, config_text: str, latency: float) -> ReplicaRig:
    slack = await start_slack_sandbox()
    tnt = TalkNTalkState(api_key=KEYS["TALKNTALK_API_KEY"], latency=latency)
    server = await serve(create_app(tnt))
    return ReplicaRig(tmp, db, slack, tnt, server, config_text)
