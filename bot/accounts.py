"""Provider accounts at run time: one shared HTTP session, rate limiter and concurrency bound each.

Why: a provider's rate limit and a sane number of open connections belong to the *account*, not
to one send, so two sends through the same account share them and never exceed them together.
One process paces in memory (``AccountLimiter``); replicas sharing a PostgreSQL store pace through
it (``bot.pacer.SharedPacer``), so the limit is shared, not multiplied by the replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import aiohttp

from bot.pacer import LOOP_CLOCK, RATE_HEADROOM, Clock, LoopClock, SharedPacer, interval_for
from providers import AnyProviderConfig, build_provider
from providers.base import Provider, RateLimited

if TYPE_CHECKING:
    from bot.store.base import SlotClaimer

__all__ = [
    "LOOP_CLOCK",
    "RATE_HEADROOM",
    "Account",
    "AccountLimiter",
    "Clock",
    "Limiter",
    "LoopClock",
    "SharedPacer",
    "interval_for",
    "open_accounts",
    "rate_for",
]


class Limiter(Protocol):
    """What the dispatcher needs of an account's pacing, in one process or shared by replicas."""

    @property
    def paused_for(self) -> float: ...

    def pause(self, seconds: float) -> None: ...

    async def acquire(self, max_pause: float | None = None) -> None: ...

    async def aclose(self) -> None: ...


class AccountLimiter:
    """Even pacing at the account's rate, and a shared pause after a 429 until its Retry-After."""

    def __init__(
        self,
        rate_per_minute: int | None,
        *,
        headroom: float = RATE_HEADROOM,
        clock: Clock = LOOP_CLOCK,
    ) -> None:
        self.rate_per_minute = rate_per_minute
        self.clock = clock
        # Requests go out one at a time on a schedule of one slot per interval. A wake-up that
        # comes late is made up from the next slot, by at most a quarter interval: so the event
        # loop's lateness is not lost on every request (the pace holds at the set rate), yet
        # two requests are never closer than 3/4 of an interval and an idle account banks
        # nothing - no burst for the provider's sliding window to count against us.
        self._interval = interval_for(rate_per_minute, headroom)
        self._next_slot = 0.0
        self._turn = asyncio.Lock()
        self._paused_until = 0.0

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.clock.time())

    def pause(self, seconds: float) -> None:
        """Hold every request of this account for ``seconds`` (a 429's Retry-After)."""
        self._paused_until = max(self._paused_until, self.clock.time() + seconds)

    async def acquire(self, max_pause: float | None = None) -> None:
        """Wait until a request may go out: after any pause, and at the account's pace.

        A pause longer than ``max_pause`` raises ``RateLimited`` instead of being waited out,
        so a send that meets an account paused for an hour fails at once with the reason.
        """
        while True:
            wait = self.paused_for
            if max_pause is not None and wait > max_pause:
                raise RateLimited(
                    f"the account is paused for {wait:.0f} s after a 429", retry_after=wait
                )
            if wait > 0:
                await self.clock.sleep(wait)
                continue
            if not self._interval:
                return
            async with self._turn:
                now = self.clock.time()
                slot = max(now, self._next_slot)
                if slot > now:
                    await self.clock.sleep(slot - now)
                if self.paused_for > 0:  # a 429 arrived while we waited for the slot
                    continue
                self._next_slot = max(slot, self.clock.time() - self._interval / 4) + self._interval
                return

    async def aclose(self) -> None:
        """Nothing to finish: the pace lives in this process only."""


@dataclass
class Account:
    """A configured provider account, ready to send."""

    name: str
    provider: Provider
    limiter: Limiter
    slots: asyncio.Semaphore
    max_concurrency: int = 16


def rate_for(config: AnyProviderConfig, provider: Provider) -> int | None:
    """The configured requests/minute, else the provider's documented default (None: no limit)."""
    if config.rate_per_minute is not None:
        return config.rate_per_minute
    return provider.default_rate_per_minute


@asynccontextmanager
async def open_accounts(
    configs: Mapping[str, AnyProviderConfig],
    *,
    clock: Clock = LOOP_CLOCK,
    claimer: SlotClaimer | None = None,
) -> AsyncIterator[dict[str, Account]]:
    """Open one ClientSession per account for the duration of the block, and close them all.

    With a ``claimer`` (a PostgreSQL store's, shared by replicas) each account is paced through
    it; without one (SQLite: one process) in memory.
    """
    sessions: list[aiohttp.ClientSession] = []
    accounts: dict[str, Account] = {}
    try:
        for name, config in configs.items():
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=config.max_concurrency),
                raise_for_status=False,
            )
            sessions.append(session)
            provider = build_provider(config, session)
            rate = rate_for(config, provider)
            limiter: Limiter = (
                AccountLimiter(rate, clock=clock)
                if claimer is None
                else SharedPacer(name, rate, claimer, clock=clock)
            )
            accounts[name] = Account(
                name=name,
                provider=provider,
                limiter=limiter,
                slots=asyncio.Semaphore(config.max_concurrency),
                max_concurrency=config.max_concurrency,
            )
        yield accounts
    finally:
        for account in accounts.values():
            await account.limiter.aclose()
        for session in sessions:
            await session.close()
