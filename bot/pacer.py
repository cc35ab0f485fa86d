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

# Seconds of slots a replica claims beyond what its waiting requests need, so that at high rates
# the next requests go out without a round trip to the store. It is also the most of the account's
# capacity left unused when a replica stops sending. At 300/min (slots 206 ms apart) it is no slot.
SLOT_RESERVE = 0.05

# The most reserve slots one claim takes (at 100,000,000/min the reserve would be ~80,000).
MAX_RESERVE_SLOTS = 100_000


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

    Each claim also takes ``reserve`` seconds' worth of extra slots: the span it claims is ours
    alone, so later requests are granted from it here, ``interval`` apart, without a round trip
    (at high rates the round trip, not the pace, was what requests waited for). The price: at most
    ``reserve`` seconds of the account's capacity go unused when this replica stops sending. A
    pause reaching into what is left of the span drops it, so nothing is granted inside a pause.
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
        reserve: float = SLOT_RESERVE,
    ) -> None:
        if not reserve >= 0:
            raise ValueError(f"a slot reserve is zero or more seconds, not {reserve}")
        self.account = account
        self.rate_per_minute = rate_per_minute
        self.claimer = claimer
        self.clock = clock
        self.recheck = recheck
        self.interval = interval_for(rate_per_minute, headroom)
        # Slots each claim takes beyond the waiting requests': ``reserve`` seconds of them.
        self.reserve_slots = (
            math.floor(min(MAX_RESERVE_SLOTS, reserve / self.interval)) if self.interval else 0
        )
        self.statements = 0  # store round trips: claims, pause reads, pauses
        self._paused_until = -math.inf  # on our clock: the latest pause we know of
        self._heard_at = -math.inf  # on our clock: when the store last told us its pause
        # On our clock: the end of the span our last claim made ours alone, and the next free
        # moment in it, kept as base + steps * interval so no rounding error adds up over steps.
        self._span_end = -math.inf
        self._free_base = -math.inf
        self._free_steps = 0
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
        now = self.clock.time()
        self._paused_until = max(self._paused_until, now + seconds)
        self._clear_reserve_of_pause(now)
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
        self._clear_reserve_of_pause(now)

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
        """Our slot, on our clock: from the reserve if it has one left, else claimed together
        with every other request waiting now."""
        if (granted := self._grant(self.clock.time())) is not None:
            return granted
        slot: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        if self._claiming is None or self._claiming.done():
            self._claiming = asyncio.get_running_loop().create_task(self._claim_waiting())
        return await slot

    async def _claim_waiting(self) -> None:
        """One statement per round for everyone waiting; requests that come meanwhile wait for
        the next round (so a busy replica makes few, larger claims), unless the reserve the
        round claimed covers them."""
        while self._waiting:
            batch: list[asyncio.Future[float]] = []
            now = self.clock.time()
            for slot in self._waiting:
                if slot.done():
                    continue
                if (granted := self._grant(now)) is None:
                    batch.append(slot)
                else:
                    slot.set_result(granted)
            self._waiting = []
            if not batch:
                continue
            count = len(batch) + self.reserve_slots
            try:
                first_in, paused_for = await self.claimer.claim_slots(
                    self.account, count, self.interval
                )
            except BaseException as exc:
                for slot in batch:
                    if not slot.done():
                        slot.set_exception(exc) if isinstance(exc, Exception) else slot.cancel()
                if not isinstance(exc, Exception):
                    raise
                continue
            self.statements += 1
            self._heard(paused_for)  # drops an old reserve this pause reaches into
            now = self.clock.time()
            first = now + first_in
            for index, slot in enumerate(batch):
                if not slot.done():  # its request was cancelled: the slot stays unused
                    slot.set_result(first + index * self.interval)
            # No other replica gets a slot in [first, first + count * interval): the store
            # starts every later claim at its end. The slots after the batch's are the reserve.
            self._span_end = first + count * self.interval
            self._free_base, self._free_steps = first, len(batch)
            self._clear_reserve_of_pause(now)

    # -- the reserve -----------------------------------------------------------------------

    def _grant(self, now: float) -> float | None:
        """The next free moment of our span (now, if that is later), or None if it is used up.

        Grants are ``interval`` apart and each ends at most at the span's end, so they keep
        ``interval`` from every other replica's slot too."""
        if self._free_base + self._free_steps * self.interval < now:  # idle: start from now
            self._free_base, self._free_steps = now, 0
        if self._free_base + (self._free_steps + 1) * self.interval > self._span_end:
            return None
        granted = self._free_base + self._free_steps * self.interval
        self._free_steps += 1
        return granted

    def _clear_reserve_of_pause(self, now: float) -> None:
        """Drop what is left of the reserve if a pause we know of reaches into it (a slot
        claimed before a 429 must not go out inside the pause it set)."""
        if self._paused_until > max(now, self._free_base + self._free_steps * self.interval):
            self._span_end = -math.inf
