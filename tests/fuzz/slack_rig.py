"""A running bridge on its own event loop in a thread, so synchronous hypothesis tests can post
signed requests to its real HTTP server; and a log catcher for tracebacks.

Why a thread: hypothesis calls the test body once per example, synchronously; the bridge (sandbox
Slack, emulators, aiohttp server) must stay up across examples on one loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from bridge_sandbox.slack.signing import sign
from bridge_sandbox.world import SIGNING_SECRET, World, start_world

from tests.bot.bridge_kit import CONFIG, FAST

T = TypeVar("T")

# Examples per fuzz test: small in the normal run, long behind `make fuzz` (FUZZ_EXAMPLES=5000).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))


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
    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.catcher = Catcher()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.loop.set_exception_handler(lambda _loop, ctx: self.catcher.loop_errors.append(ctx))
        self.world: World = self.run(start_world(tmp, CONFIG, options=FAST, usergroups={}))
        self.http: aiohttp.ClientSession = self.run(self._session())

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def post(self, body: bytes) -> tuple[int, float]:
        """POST ``body`` signed as Slack would: (status, seconds to answer)."""

        async def go() -> tuple[int, float]:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            headers.update(sign(SIGNING_SECRET, body))
            started = self.loop.time()
            async with self.http.post(self.world.events_url, data=body, headers=headers) as r:
                await r.read()
                return r.status, self.loop.time() - started

        return self.run(go())

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


def rig_for(tmp: Path) -> Iterator[Rig]:
    root = logging.getLogger()
    rig = Rig(tmp)
    level = root.level
    root.addHandler(rig.catcher)
    root.setLevel(logging.INFO)
    try:
        yield rig
    finally:
        root.removeHandler(rig.catcher)
        root.setLevel(level)
        rig.close()
