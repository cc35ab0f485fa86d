"""The clock pacing reads, and an account's pace shared by replicas through the store.

Why the database's clock and not the replicas': replicas' wall clocks differ (NTP keeps them
within milliseconds, on a bad day seconds), and at 300/min slots are 200 ms apart, so a skew of
that size would put two replicas' requests on one slot. The store hands out slots on its own
clock and answers in *seconds from its reading*; a replica only measures that duration on its own
monotonic clock. The answer's trip back can make a request later, never earlier.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Protocol

from providers.base import RateLimited

if TYPE_CHECKING:
    from bot.store.base import SlotClaimer

log = logging.getLogger(__name__)

# Pace a little under the documented limit so clock skew and network jitter between us and the
# provider's window never cost a 429 (measured in bench/dispatch.py and bench/replicas_rate.py).
RATE_HEADROOM = 0.97

# How stale this replica's view of a 429 pause set by another replica may get before a request
# goes out: a request sent into such a pause only meets a 429 and is retried after it.
PAUSE_RECHECK = 0.25


class Clock(Protocol):
    """What the limiter reads time from and waits with; tests pass one they move by hand."""

    def time(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's clock: what the bridge uses."""

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


LOOP_CLOCK = LoopClock()


def interval_for(rate_per_minute: int | None, headroom: float = RATE_HEADROOM) -> float:
    """Seconds between two requests of an account paced a little under its rate (0: no limit)."""
    return 60.0 / (rate_per_minute * headroom) if rate_per_minute else 0.0


class SharedPacer:
    """An account's ``Limiter`` when several replicas send through it: slots come from the store.

    Requests of this replica that wait at the same moment claim their slots in one statement
    (k slots, ``interval`` apart, after every slot any replica claimed before); each then sleeps
    until its own. A 429 pauses the account in the store, for every replica; before a request
    goes out the pause is read again unless the store spoke within ``recheck`` seconds.
    """

    def __init__(
        self,
        account: str,
        rate_per_minute: int | None,
        claimer: SlotClaimer,
        *,
        headroom: float = RATE_HEADROOM,
        clock: Clock = LOOP_CLOCK,
        recheck: float = PAUSE_RECHECK,
    ) -> None:
        self.account = account
        self.rate_per_minute = rate_per_minute
        self.claimer = claimer
        self.clock = clock
        self.recheck = recheck
        self.interval = interval_for(rate_per_minute, headroom)
        self.statements = 0  # store round trips: claims, pause reads, pauses
        self._paused_until = -math.inf  # on our clock: the latest pause we know of
        self._heard_at = -math.inf  # on our clock: when the store last told us its pause
        self._waiting: list[asyncio.Future[float]] = []
        self._claiming: asyncio.Task[None] | None = None
        self._checking: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.clock.time())

    def pause(self, seconds: float) -> None:
        """Hold this account for ``seconds`` (a 429's Retry-After) here at once, and everywhere
        as soon as the store has it."""
        self._paused_until = max(self._paused_until, self.clock.time() + seconds)
        task = asyncio.get_running_loop().create_task(self._publish(seconds))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def acquire(self, max_pause: float | None = None) -> None:
        """Wait until a request may go out: after any pause, and in a slot of its own.

        A pause longer than ``max_pause`` raises ``RateLimited`` instead of being waited out.
        """
        while True:
            await self._fresh_pause()
            self._check_pause(max_pause)
            if (wait := self.paused_for) > 0:
                await self.clock.sleep(wait)
                continue
            if not self.interval:
                return
            slot = await self._claim()
            self._check_pause(max_pause)  # the claim tells us of a pause set meanwhile
            if (wait := slot - self.clock.time()) > 0:
                await self.clock.sleep(wait)
            await self._fresh_pause()
            if self.paused_for > 0:  # a 429, here or in another replica, while we waited
                continue
            return

    async def aclose(self) -> None:
        """Let pauses still being written land (other replicas need them); stop the rest."""
        if self._publishing:
            await asyncio.gather(*self._publishing, return_exceptions=True)
        for task in (self._claiming, self._checking):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    # -- the store -------------------------------------------------------------------------

    def _check_pause(self, max_pause: float | None) -> None:
        wait = self.paused_for
        if max_pause is not None and wait > max_pause:
            raise RateLimited(
                f"the account is paused for {wait:.0f} s after a 429", retry_after=wait
            )

    def _heard(self, paused_for: float) -> None:
        now = self.clock.time()
        self._heard_at = max(self._heard_at, now)
        self._paused_until = max(self._paused_until, now + paused_for)

    async def _publish(self, seconds: float) -> None:
        try:
            self._heard(await self.claimer.pause_account(self.account, seconds))
            self.statements += 1
        except Exception as exc:  # the pause still holds here; other replicas meet their own 429
            log.warning(
                "could not share a 429 pause with the other replicas",
                extra={"account": self.account, "error": type(exc).__name__},
            )

    async def _fresh_pause(self) -> None:
        """Read the account's pause from the store if we have not heard it lately (one read,
        shared by every request of this replica that needs it)."""
        if self.clock.time() - self._heard_at <= self.recheck:
            return
        if self._checking is None or self._checking.done():
            self._checking = asyncio.get_running_loop().create_task(self._read_pause())
        await asyncio.shield(self._checking)

    async def _read_pause(self) -> None:
        self._heard(await self.claimer.account_pause(self.account))
        self.statements += 1

    async def _claim(self) -> float:
        """Our slot, on our clock; claimed together with every other request waiting now."""
        slot: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        if self._claiming is None or self._claiming.done():
            self._claiming = asyncio.get_running_loop().create_task(self._claim_waiting())
        return await slot

    async def _claim_waiting(self) -> None:
        """One statement per round for everyone waiting; requests that come meanwhile wait for
        the next round (so a busy replica makes few, larger claims)."""
        while self._waiting:
            batch = [slot for slot in self._waiting if not slot.done()]
            self._waiting = []
            if not batch:
                continue
            try:
                first_in, paused_for = await self.claimer.claim_slots(
                    self.account, len(batch), self.interval
                )
            except BaseException as exc:
                for slot in batch:
                    if not slot.done():
                        slot.set_exception(exc) if isinstance(exc, Exception) else slot.cancel()
                if not isinstance(exc, Exception):
                    raise
                continue
            self.statements += 1
            self._heard(paused_for)
            now = self.clock.time()
            for index, slot in enumerate(batch):
                if not slot.done():  # its request was cancelled: the slot stays unused
                    slot.set_result(now + first_in + index * self.interval)
