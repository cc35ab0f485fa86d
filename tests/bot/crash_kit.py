"""Helpers for the restart and exactly-once tests: a real ``python -m bot serve`` child process
that can be SIGKILLed, a read-only look at its SQLite send record, and an in-process bridge
restarted on the same database while Slack and the providers stay up.

Why a child process: only a real ``kill -9`` shows what a crash leaves behind (no ``finally``, no
flush, no graceful shutdown); an in-process "crash" always runs some cleanup.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from bridge_sandbox.emulators.common import RunningServer, serve
from bridge_sandbox.emulators.talkntalk import TalkNTalkState, create_app
from bridge_sandbox.slack import SlackSandbox, payloads, start_slack_sandbox
from bridge_sandbox.slack.user import send_to_app
from bridge_sandbox.world import KEYS, SIGNING_SECRET, World, world_env

from bot.server.env import read_env
from bot.server.runtime import RuntimeOptions
from bot.server.web import SLOT, build_web_app

REPO = Path(__file__).resolve().parents[2]
ALICE = "U0ALICE001"
INCIDENTS = "C0INCIDENT"
CROWD = [f"+2547000001{i:02d}" for i in range(1, 21)]  # 20 recipients
TERMINAL = {"sent", "failed", "unknown", "delivered", "read"}
T = TypeVar("T")

CRASH_CONFIG = f"""\
defaults:
  country: KE
  confirm_over: 50          # above the 20 recipients: no confirmation step
  max_recipients: 100

providers:
  tnt:
    type: talkntalk
    api_key: ${{TALKNTALK_API_KEY}}
    base_url: ${{TNT_URL}}
    timeout_seconds: 10     # longer than the test: a hung request stays in flight
    rate_per_minute: 60000  # pacing out of the way; the 2 slots set the pace
    max_concurrency: 2

contacts:
  crowd: [{", ".join(f'"{n}"' for n in CROWD)}]

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


async def eventually(
    probe: Callable[[], T | None],
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy; TimeoutError naming ``what`` if not."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout:g} s")
        await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the send record, read as an outsider (read-only, never through the bridge's code) -----


@dataclass(frozen=True)
class Snapshot:
    requests: list[dict[str, Any]]
    recipients: list[dict[str, Any]]

    def of(self, request_id: str) -> list[dict[str, Any]]:
        return [r for r in self.recipients if r["request_id"] == request_id]

    def status(self) -> dict[str, str]:
        """E.164 digits (as the emulator records them) -> recorded status."""
        return {r["address"].lstrip("+"): r["status"] for r in self.recipients}


def read_db(path: Path) -> Snapshot:
    if not path.exists():
        return Snapshot([], [])
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    db.row_factory = sqlite3.Row
    try:
        requests = [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY rowid")]
        recipients = [dict(r) for r in db.execute("SELECT * FROM recipients ORDER BY idx")]
    except sqlite3.OperationalError:  # not migrated yet
        return Snapshot([], [])
    finally:
        db.close()
    return Snapshot(requests, recipients)


async def snapshot(path: Path) -> Snapshot:
    return await asyncio.to_thread(read_db, path)


async def snapshot_when(
    path: Path,
    probe: Callable[[Snapshot], bool],
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline
    what: str = "condition",
) -> Snapshot:
    """Poll the send record until ``probe`` holds; TimeoutError naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        snap = await snapshot(path)
        if probe(snap):
            return snap
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout:g} s")
        await asyncio.sleep(0.02)


def kill_when_claimed(
    db: Path,
    pid: int,
    deadline: float,
    query: str,
    moment: Callable[[list[Any]], str | None],
) -> str:
    """Poll ``query`` on the SQLite file (read-only, outside the bridge) and SIGKILL ``pid`` the
    moment ``moment(rows)`` says "claimed"; stop at "missed" (the moment has passed) or at
    ``deadline`` ("timeout"). A crash timed by the row lands inside a claim every time, with no
    hook in the bridge. Run it in a thread: it blocks."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1, isolation_level=None)
    try:
        while time.monotonic() < deadline:
            try:
                rows = con.execute(query).fetchall()
            except sqlite3.OperationalError:  # busy, or the table not there yet: look again
                continue
            verdict = moment(rows)
            if verdict == "claimed":
                os.kill(pid, signal.SIGKILL)
            if verdict is not None:
                return verdict
    finally:
        con.close()
    return "timeout"


# --- a bridge as a child process ------------------------------------------------------------


@dataclass
class BridgeProcess:
    proc: asyncio.subprocess.Process
    url: str
    log: Path

    async def healthy(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - polling deadline
        """Until /readyz says 200: the store answers and Slack has accepted the token."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"bridge exited {self.proc.returncode}: {self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(
                        self.url + "/readyz", timeout=aiohttp.ClientTimeout(1)
                    ) as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise TimeoutError(f"bridge not healthy within {timeout:g} s: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    async def kill(self) -> int:
        """``kill -9``: no cleanup of any kind runs in the bridge."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        return await self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM (a graceful stop), SIGKILL if it does not go within 5 s; the exit status."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            return await self.kill()


@dataclass
class CrashRig:
    """Sandbox Slack and a slowed TalkNTalk emulator in the test process; bridges as children."""

    tmp: Path
    slack: SlackSandbox
    tnt: TalkNTalkState
    tnt_server: RunningServer
    port: int = field(default_factory=free_port)
    children: list[BridgeProcess] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.tmp / "bridge.db"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **KEYS,
            "TNT_URL": self.tnt_server.url,
            "PORT": str(self.port),
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": self.slack.state.bot_token,
            "SLACK_API_URL": self.slack.api_url,
            "BRIDGE_DB": str(self.db),
            "LOG_LEVEL": "WARNING",
        }

    async def start_bridge(self, config_text: str = CRASH_CONFIG) -> BridgeProcess:
        """``python -m bot --config … serve``, the same command every time, waited healthy."""
        config = self.tmp / "bridge.yaml"
        config.write_text(config_text, encoding="utf-8")
        log = self.tmp / f"bridge-{len(self.children) + 1}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(config), "serve",
                env=self.env(), cwd=REPO, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        child = BridgeProcess(proc, self.url, log)
        self.children.append(child)
        await child.healthy()
        return child

    async def slash(self, text: str) -> int:
        body = payloads.slash_command(
            self.slack.state, "/send", text, user=ALICE, channel=INCIDENTS
        )
        status, _ = await send_to_app(self.url, body, SIGNING_SECRET)
        return status

    def requested(self) -> Counter[str]:
        """How many requests the provider received per recipient (delivered or not)."""
        return Counter(r.body["mobile"] for r in self.tnt.requests if isinstance(r.body, dict))

    def delivered(self) -> Counter[str]:
        return Counter(d.recipient for d in self.tnt.deliveries)

    async def close(self) -> None:
        for child in self.children:
            await child.kill()
        await self.slack.close()
        await self.tnt_server.close()


async def start_rig(tmp: Path, latency: float = 0.2) -> CrashRig:
    slack = await start_slack_sandbox()
    tnt = TalkNTalkState(api_key=KEYS["TALKNTALK_API_KEY"], latency=latency)
    server = await serve(create_app(tnt))
    return CrashRig(tmp, slack, tnt, server)


# --- an in-process bridge restarted on the same database ------------------------------------


async def restart_in_process(
    world: World, workdir: Path, options: RuntimeOptions, *, wait: bool = True
) -> World:
    """Stop the bridge's server (its runtime closes; sends still running are cancelled unless
    ``wait``) and start a new one on the same config and ``bridge.db``; Slack and the provider
    emulators keep running."""
    if wait:
        await world.runtime.service.wait_idle()
    await world.bridge.close()
    env = read_env(world_env(world.emulators, world.slack, workdir / "bridge.db"))
    app = build_web_app(world.settings, env, options)
    server = await serve(app)
    runtime = app[SLOT].runtime
    assert runtime is not None
    return World(server, world.slack, world.emulators, runtime, world.settings)
