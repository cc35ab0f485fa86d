"""Helpers for the probe and start-up tests: a bridge's parts assembled but not yet served (so a
test can break Slack before the start, or watch the metrics port while the runtime opens), and a
TCP relay in front of PostgreSQL that a test can cut, as a database host that went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from bridge_sandbox.emulators.suite import EmulatorSuite, start_suite
from bridge_sandbox.slack import SlackSandbox, start_slack_sandbox
from bridge_sandbox.world import KEYS, world_env

from bot.server.env import BridgeEnv, read_env
from bot.server.runtime import RuntimeOptions
from bot.server.web import build_web_app
from config import Settings, load
from tests.bot.bridge_kit import CONFIG, FAST


@dataclass
class Parts:
    """Slack, the providers, the config and the environment of a bridge not yet started."""

    slack: SlackSandbox
    emulators: EmulatorSuite
    settings: Settings
    env: BridgeEnv

    def app(self, options: RuntimeOptions = FAST) -> web.Application:
        return build_web_app(self.settings, self.env, options)

    async def close(self) -> None:
        await self.slack.close()
        await self.emulators.close()


async def assemble(tmp_path: Path, extra_env: Mapping[str, str] | None = None) -> Parts:
    emulators = await start_suite(
        talkntalk_key=KEYS["TALKNTALK_API_KEY"],
        autokonnect_key=KEYS["AUTOKONNECT_API_KEY"],
        kaleyra_key=KEYS["KALEYRA_API_KEY"],
    )
    slack = await start_slack_sandbox()
    env_vars = {**world_env(emulators, slack, tmp_path / "bridge.db"), **(extra_env or {})}
    config = tmp_path / "bridge.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load(config, env={**os.environ, **env_vars})
    return Parts(slack, emulators, settings, read_env(env_vars))


async def probe(base_url: str, path: str) -> tuple[int, dict[str, Any], str]:
    """Status, JSON body (empty if not JSON) and raw text of one GET."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(base_url + path, timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        text = await response.text()
    try:
        body = json.loads(text)
    except ValueError:
        body = {}
    return response.status, body if isinstance(body, dict) else {}, text


@dataclass
class Relay:
    """127.0.0.1:port -> target, byte for byte; ``cut`` stops listening and drops every
    connection (the database's host is gone), ``restore`` listens on the same port again."""

    target: tuple[str, int]
    port: int = 0
    _server: asyncio.Server | None = None
    _pipes: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> Relay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        pipes = {
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        }
        self._pipes |= pipes

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in self._writers:
            writer.transport.abort()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        self._pipes.clear()
        self._writers.clear()
        if server is not None:
            await server.wait_closed()  # after the abort: 3.12+ waits for every connection

    async def restore(self) -> None:
        await self.start()
