"""Batch-shaped writes for one dispatch: attempts claimed together, outcomes recorded in bulk.

Why: a big send makes thousands of provider calls, and recording each one's attempt and outcome
in statements of its own made the send record, not the provider, the bottleneck. Here
a call's attempt is written the moment its slot is free (claims that queue behind busy writes
share the next one, and the SQLite store merges claims queued behind a commit), and the outcomes
that come back together share one ``outcomes_recorded``, while every promise keeps: a call
starts only after the write holding its attempt is committed, and an outcome is reported only
after it is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from providers.base import Outcome, Recipient

log = logging.getLogger(__name__)


class AttemptRecorder(Protocol):
    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None: ...


class OutcomeRecorder(Protocol):
    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None: ...


class Recorder(AttemptRecorder, OutcomeRecorder, Protocol):
    """Where attempts and outcomes are written (the store); called before acting on them.

    Both take many recipients at once: the dispatcher calls ``attempt_started`` for a call
    about to go out (or for several that waited together), and ``outcomes_recorded`` for the
    outcomes buffered since the last write, so an implementation should write each in a
    constant number of statements.
    """

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None: ...


class NullRecorder:
    """For callers with nowhere to record (benchmarks)."""

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        return None

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        return None

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None:
        return None


_Claim = tuple[Sequence[Recipient], asyncio.Future[None]]


class AttemptClaims:
    """Group commit for attempts: a claim writes at once, and claims that arrive while
    ``max_writes`` writes are in flight share the next one.

    A worker that holds a slot (and its rate-limit turn) calls ``claim`` and waits; it returns
    only after the write holding its attempt is committed, so no provider call starts before
    its attempt row exists. Below ``max_writes`` the claim writes in its caller's task, so no
    turn of the event loop (costly under load: docs/performance.md) comes between a free slot
    and its write, nor between the commit and the call. Past ``max_writes``, claims wait and go
    out together, in one write, as soon as one of those writes ends; a store that can share one
    transaction between writes arriving together does so itself.
    """

    def __init__(self, recorder: AttemptRecorder, request_id: str, *, max_writes: int = 1) -> None:
        self._recorder = recorder
        self._request_id = request_id
        self._max_writes = max(1, max_writes)
        self._waiting: dict[int, list[_Claim]] = {}
        self._writes = 0  # in flight
        self._starting = False  # a write is about to take what is waiting

    async def claim(self, recipients: Sequence[Recipient], attempt: int) -> None:
        """Return once the attempt of ``recipients`` is recorded (raise if it could not be)."""
        if self._writes < self._max_writes and not self._waiting:
            self._writes += 1
            try:  # cancelled, the write may still land (whole or not at all); no call follows
                await self._recorder.attempt_started(self._request_id, recipients, attempt)
            finally:
                self._finished(None)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(attempt, []).append((recipients, done))
        self._start()
        await done

    def _start(self) -> None:
        if self._starting or self._writes >= self._max_writes or not self._waiting:
            return
        self._starting = True
        self._writes += 1
        task = asyncio.ensure_future(self._write_next())  # runs next turn: all of this one join
        task.add_done_callback(self._finished)

    def _finished(self, _: object) -> None:
        self._writes -= 1
        self._start()

    async def _write_next(self) -> None:
        self._starting = False
        waiting, self._waiting = self._waiting, {}
        for attempt, claims in sorted(waiting.items()):
            recipients = [r for batch, _ in claims for r in batch]
            try:
                await self._recorder.attempt_started(self._request_id, recipients, attempt)
            except Exception as exc:  # every waiter sees it; none of them calls
                for _, done in claims:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in claims:
                    if not done.done():  # a waiter cancelled meanwhile (shutdown) is gone
                        done.set_result(None)


class OutcomeBuffer:
    """Write-behind for outcomes: recorded in bulk, then handed on to be reported.

    ``add`` never waits, so a worker is free for its next call as soon as its answer is in. The
    buffer writes what it holds when ``size`` outcomes are waiting or ``delay`` seconds after
    the first one came, in one ``outcomes_recorded``, and only then passes them to ``deliver``:
    an outcome is never reported (nor the request marked done) before it is recorded. ``close``
    writes what is left (a finished or stopping dispatch). An outcome still in the buffer when
    the process dies was never recorded: its recipient stays in flight, and the restart reports
    it ``unknown`` and never sends it again — the same safe answer as for a call cut off mid-way.
    """

    def __init__(
        self,
        recorder: OutcomeRecorder,
        request_id: str,
        deliver: Callable[[list[Outcome]], Awaitable[None]],
        *,
        size: int = 64,
        delay: float = 0.05,
    ) -> None:
        self._recorder = recorder
        self._request_id = request_id
        self._deliver = deliver
        self.size = max(1, size)
        self.delay = delay
        self._pending: list[Outcome] = []
        self._some = asyncio.Event()
        self._full = asyncio.Event()
        self._closed = False

    def add(self, outcomes: Sequence[Outcome]) -> None:
        self._pending.extend(outcomes)
        self._some.set()
        if len(self._pending) >= self.size:
            self._full.set()

    def close(self) -> None:
        """No more outcomes will come: write the rest now, then ``run`` returns."""
        self._closed = True
        self._some.set()
        self._full.set()

    async def write_rest(self) -> None:
        """Record what is still buffered without reporting it (a dispatch torn down early)."""
        batch, self._pending = self._pending, []
        if batch:
            try:
                await self._recorder.outcomes_recorded(self._request_id, batch)
            except Exception as exc:  # the dispatch is already failing with its own error
                log.error("outcomes could not be recorded; restart reports them unknown: %s", exc)

    async def run(self) -> None:
        """Write and deliver until closed and empty; a failed write raises (nothing delivered)."""
        while not (self._closed and not self._pending):
            await self._some.wait()
            if not self._closed and len(self._pending) < self.size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.delay)
            batch, self._pending = self._pending, []
            self._some.clear()
            self._full.clear()
            if batch:
                await self._recorder.outcomes_recorded(self._request_id, batch)
                await self._deliver(batch)
