"""A few follow-ups at a time, none holding its place for long: new alert groups' page starts
and Slack messages.

Why: a storm opens a hundred groups within a second; their Slack posts and first SMS, all at
once, took the event loop from the notifications' answers for a quarter of a second
(bench/alerts.py). A few at a time they still all start within about a second. Why a place is
held at most ``hold`` seconds: a follow-up may wait on a provider or Slack for many seconds
(timeouts, retries), and a slow one must not keep the next page's first SMS waiting; past
``hold`` it goes on outside the count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Stagger:
    def __init__(self, at_once: int, hold: float) -> None:
        self._places = asyncio.Semaphore(at_once)
        self.hold = hold

    @asynccontextmanager
    async def place(self) -> AsyncIterator[None]:
        """Wait for a place; it is given back when the block ends or ``hold`` seconds on."""
        await self._places.acquire()
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if not given_back:
                given_back = True
                self._places.release()

        timer = asyncio.get_running_loop().call_later(self.hold, give_back)
        try:
            yield
        finally:
            timer.cancel()
            give_back()
