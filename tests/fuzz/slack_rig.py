"""A running bridge on its own event loop in a thread, so synchronous hypothesis tests can post
signed requests to its real HTTP server; and a log catcher for tracebacks.

Why a thread: hypothesis calls the test body once per example, synchronously; the bridge (sandbox
Slack, emulators, aiohttp server) must stay up across examples on one loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import pytest
from bridge_sandbox.slack.signing import sign
from bridge_sandbox.world import SIGNING_SECRET, World, start_world

from tests.bot.bridge_kit import FAST
from tests.bot.receipts.test_receipts import KAL_SECRET, RECEIPTS_CONFIG, TNT_SECRET
from tests.fuzz import figures

T = TypeVar("T")

# Examples per fuzz test: small in the normal run, long behind `make fuzz`.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))

# Receipts on: tnt signs with HMAC, kal sends a header secret, kalb uses HTTP Basic auth.
KAL_USER = "kaleyra"
CONFIG = RECEIPTS_CONFIG.replace(
    "\ncontacts:",
    "  kalb:\n    type: kaleyra\n    api_key: ${KALEYRA_API_KEY}\n    sid: HXAP16XXXXXX97IN\n"
    "    base_url: ${KAL_URL}\n    webhook_secret: ${KAL_WEBHOOK_SECRET}\n"
    f"    webhook_username: {KAL_USER}\n\ncontacts:",
    1,
)
SECRETS = {"TNT_WEBHOOK_SECRET": TNT_SECRET, "KAL_WEBHOOK_SECRET": KAL_SECRET}
SIGNED_SLACK = frozenset({200})  # Slack's answer to every signed request
# 413: aiohttp refuses a body over client_max_size (1 MiB) before the bridge reads it.
WEBHOOK = frozenset({200, 400, 401, 404, 413})


class Catcher(logging.Handler):
    """Every log record, and every exception the loop could not hand to anyone."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.loop_errors: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def clear(self) -> None:
        self.records.clear()
        self.loop_errors.clear()

    def problems(self) -> list[str]:
        found = [
            f"{r.name}: {r.getMessage()}"
            for r in self.records
            if r.exc_info or "Traceback" in r.getMessage() or "never retrieved" in r.getMessage()
        ]
        return found + [str(e.get("message")) for e in self.loop_errors]


class Rig:
    def __init__(self, tmp: Path, config: str = CONFIG) -> None:
        self.loop = asyncio.new_event_loop()
        self.catcher = Catcher()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.loop.set_exception_handler(lambda _loop, ctx: self.catcher.loop_errors.append(ctx))
        self.world: World = self.run(start_world(tmp, config, options=FAST, usergroups={}))
        self.http: aiohttp.ClientSession = self.run(self._session())

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def post(self, body: bytes) -> tuple[int, float]:
        """POST ``body`` signed as Slack would: (status, seconds to answer)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers.update(sign(SIGNING_SECRET, body))
        return self.request("/slack/events", body, headers)

    def request(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
        async def go() -> tuple[int, float]:
            started = self.loop.time()
            url = self.world.bridge.url + path
            async with self.http.post(url, data=body, headers=headers) as r:
                await r.read()
                return r.status, self.loop.time() - started

        return self.run(go())

    def raw_request(self, path: str, body: bytes, headers: dict[str, bytes]) -> tuple[int, float]:
        """One HTTP/1.1 request written byte for byte: header values no client would send."""

        async def go() -> tuple[int, float]:
            url = urlsplit(self.world.bridge.url)
            started = self.loop.time()
            reader, writer = await asyncio.open_connection(url.hostname, url.port)
            try:
                lines = [f"POST {path} HTTP/1.1".encode(), f"Host: {url.netloc}".encode()]
                lines += [name.encode() + b": " + value for name, value in headers.items()]
                lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close", b"", b""]
                writer.write(b"\r\n".join(lines) + body)
                # A server that refuses the head (a NUL in a header) answers and closes before
                # a large body is all written: the answer is still there to read.
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    await writer.drain()
                status_line = await asyncio.wait_for(reader.readline(), timeout=10)
                seconds = self.loop.time() - started
                with contextlib.suppress(ConnectionResetError):
                    await asyncio.wait_for(reader.read(), timeout=10)
            finally:
                writer.close()
            return int(status_line.split()[1]), seconds

        return self.run(go())

    def settle(self, kind: str, status: int, seconds: float, allowed: frozenset[int]) -> list[str]:
        """Wait for the work a request started, record it in the figures; what went wrong."""
        self.run(self.world.idle())
        problems = self.catcher.problems()
        figures.record(kind, status, seconds, allowed, len(problems))
        return problems

    def close(self) -> None:
        async def stop() -> None:
            await self.http.close()
            await self.world.close()

        try:
            self.run(stop(), timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def rig_for(
    tmp: Path, config: str = CONFIG, secrets: Mapping[str, str] | None = None
) -> Iterator[Rig]:
    """A rig on ``config`` (default: receipts on), with ``secrets`` in the environment too."""
    root = logging.getLogger()
    with pytest.MonkeyPatch.context() as env:
        for name, value in {**SECRETS, **(secrets or {})}.items():
            env.setenv(name, value)
        rig = Rig(tmp, config)
    level = root.level
    root.addHandler(rig.catcher)
    root.setLevel(logging.INFO)
    try:
        yield rig
    finally:
        root.removeHandler(rig.catcher)
        root.setLevel(level)
        rig.close()
