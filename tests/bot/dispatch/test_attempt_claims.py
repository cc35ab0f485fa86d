"""How a send's attempt claims reach the store, and how many writes they may have in flight.

Why: a claim sits between a recipient's turn and its provider call, and under load every turn
of the event loop on that path costs about a millisecond on every call (bench/store.py). So a
claim writes at once, in its caller's own task, while fewer than ``max_writes`` writes are in
flight; past that, claims wait and go out together in one write as soon as one write ends. The
store is the real SQLite one; the gate only holds each write until the test lets it go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.dispatch_batch import AttemptClaims
from bot.store import SQLiteStore
from providers.base import Recipient
from tests.bot.store_fixtures import new_request, recipients


class GatedRecorder:
    """The real store's ``attempt_started``, each call held until the test opens its gate."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.writes: list[tuple[list[str], asyncio.Event]] = []

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        gate = asyncio.Event()
        self.writes.append(([r.ref for r in recipients], gate))
        await gate.wait()
        await self.store.attempt_started(request_id, recipients, attempt)


async def turn() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def open_gates_until_done(
    recorder: GatedRecorder, tasks: Sequence[asyncio.Future[None]]
) -> None:
    """Let every write through, including those the ones let through start, until all end."""
    async with asyncio.timeout(10):
        while not all(task.done() for task in tasks):
            for _, gate in recorder.writes:
                gate.set()
            await asyncio.sleep(0.001)


async def test_a_claim_writes_in_the_first_step_of_its_own_task(tmp_path: Path) -> None:
    """No turn of the loop between a free slot and the write: the write has begun by the time
    the claiming task first waits (before, a helper task began it one turn later)."""
    to = recipients("R1", 1)
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), to, None)
        recorder = GatedRecorder(store)
        claims = AttemptClaims(recorder, "R1", max_writes=2)

        claim = asyncio.ensure_future(claims.claim(to, 1))
        await asyncio.sleep(0)  # exactly one turn: the claiming task's first step

        assert [refs for refs, _ in recorder.writes] == [["R1-0"]]
        recorder.writes[0][1].set()
        await asyncio.wait_for(claim, 5)
        assert [r.status.value for r in await store.recipients("R1")] == ["in_flight"]


async def test_claims_write_at_once_until_max_writes_then_wait_and_share_the_next_write(
    tmp_path: Path,
) -> None:
    to = recipients("R1", 6)
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), to, None)
        recorder = GatedRecorder(store)
        claims = AttemptClaims(recorder, "R1", max_writes=2)

        first = [asyncio.ensure_future(claims.claim([r], 1)) for r in to[:2]]
        await turn()
        later = [asyncio.ensure_future(claims.claim([r], 1)) for r in to[2:]]
        await turn()

        # Two writes in flight, one claim each; the other four wait for a write to end.
        assert [refs for refs, _ in recorder.writes] == [["R1-0"], ["R1-1"]]
        assert not any(task.done() for task in [*first, *later])

        recorder.writes[1][1].set()  # the second write lands: only its claim returns
        await asyncio.wait_for(first[1], 5)
        assert not any(task.done() for task in [first[0], *later])
        await turn()
        assert [refs for refs, _ in recorder.writes][2] == ["R1-2", "R1-3", "R1-4", "R1-5"]
        assert not any(task.done() for task in [first[0], *later])  # not before their write

        for _, gate in recorder.writes:
            gate.set()
        await asyncio.wait_for(asyncio.gather(first[0], *later), 5)
        assert {r.status.value for r in await store.recipients("R1")} == {"in_flight"}
        assert len(recorder.writes) == 3


async def test_waiting_claims_of_different_attempts_are_written_per_attempt(
    tmp_path: Path,
) -> None:
    to = recipients("R1", 3)
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), to, None)
        recorder = GatedRecorder(store)
        claims = AttemptClaims(recorder, "R1", max_writes=1)

        busy = asyncio.ensure_future(claims.claim([to[0]], 1))
        await turn()
        waiting = [
            asyncio.ensure_future(claims.claim([to[1]], 2)),
            asyncio.ensure_future(claims.claim([to[2]], 1)),
        ]
        await turn()
        await open_gates_until_done(recorder, [busy, *waiting])  # attempt 1, then attempt 2

        assert [refs for refs, _ in recorder.writes] == [["R1-0"], ["R1-2"], ["R1-1"]]
        attempts = {r.ref: r.attempts for r in await store.recipients("R1")}
        assert attempts == {"R1-0": 1, "R1-1": 2, "R1-2": 1}


async def test_a_claim_whose_write_fails_raises_and_its_call_is_never_made(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), recipients("R1", 1), None)
        claims = AttemptClaims(store, "R2", max_writes=2)  # no such request
        with pytest.raises(LookupError):
            await claims.claim(recipients("R2", 1), 1)


async def test_a_failed_write_reaches_every_claim_that_waited_for_it(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), recipients("R1", 1), None)
        recorder = GatedRecorder(store)
        claims = AttemptClaims(recorder, "R2", max_writes=1)  # no such request
        to = recipients("R2", 3)
        tasks = [asyncio.ensure_future(claims.claim([r], 1)) for r in to]
        await turn()
        await open_gates_until_done(recorder, tasks)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(result, LookupError) for result in results)
        assert [refs for refs, _ in recorder.writes] == [["R2-0"], ["R2-1", "R2-2"]]
