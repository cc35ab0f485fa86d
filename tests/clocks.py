"""Time the test controls: a clock that moves only when the code under test sleeps, and a sleep
that lasts until the test lets it go.

Why: a test that measures wall-clock windows (``0.28 <= dt < 0.6``) or sleeps a fixed time to
wait for something flakes on a loaded machine. These stand in for ``time.monotonic`` /
``asyncio.sleep`` wherever the code takes a clock, so a test asserts on what was waited and in
which order, not on how fast the machine happened to be.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class VirtualClock:
    """``time()`` stands still until the code sleeps; each ``sleep`` is recorded and moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)  # still a suspension point, as the real sleep is


class HeldClock(VirtualClock):
    """A virtual clock whose sleeps wait for ``release()``; then time moves to their end."""

    def __init__(self, start: float = 1000.0) -> None:
        super().__init__(start)
        self._released = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        until = self.now + max(0.0, seconds)
        await self._released.wait()
        self.now = max(self.now, until)

    def release(self) -> None:
        self._released.set()


async def wait_until(
    condition: Callable[[], object],
    timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline
    what: str = "condition",
) -> None:
    """Poll ``condition`` until it holds; a generous deadline, so only a real hang fails it."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout:g} s")
        await asyncio.sleep(0.01)


class HeldSleep:
    """A sleep that returns only once the test calls ``release()``; it records what was asked."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.waiting = asyncio.Event()
        self._released = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.waiting.set()
        await self._released.wait()

    def release(self) -> None:
        self._released.set()


class SignalledSleep:
    """The real sleep, which first tells the test that something has started waiting in it."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.waiting = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.waiting.set()
        await asyncio.sleep(seconds)
