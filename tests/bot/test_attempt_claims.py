"""How a send's attempt claims are grouped and how many writes they may have in flight.

Why: a claim sits between a recipient's turn and its provider call. Claims of one turn of the
event loop share a write; several writes may be in flight, so a claim does not also wait for
the write before its own; past ``max_writes`` claims wait and join the next write. The store
is the real SQLite one; the gate only holds each write until the test lets it go.
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


async def test_claims_of_one_turn_share_a_write_and_later_ones_wait_past_max_writes(
    tmp_path: Path,
) -> None:
    to = recipients("R1", 6)
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), to, None)
        recorder = GatedRecorder(store)
        claims = AttemptClaims(recorder, "R1", max_writes=2)

        first = [asyncio.ensure_future(claims.claim([r], 1)) for r in to[:2]]  # one turn
        await turn()
        second = asyncio.ensure_future(claims.claim([to[2]], 1))
        await turn()
        later = [asyncio.ensure_future(claims.claim([r], 1)) for r in to[3:]]
        await turn()

        assert [refs for refs, _ in recorder.writes] == [["R1-0", "R1-1"], ["R1-2"]]
        assert not any(task.done() for task in [*first, second, *later])

        recorder.writes[1][1].set()  # the second write lands: only its claim returns
        await asyncio.wait_for(second, 5)
        assert not any(task.done() for task in [*first, *later])
        await turn()
        assert [refs for refs, _ in recorder.writes][2] == ["R1-3", "R1-4", "R1-5"]

        for _, gate in recorder.writes:
            gate.set()
        await asyncio.wait_for(asyncio.gather(*first, *later), 5)
        in_flight = await store.recipients("R1")
        assert {r.status.value for r in in_flight} == {"in_flight"}


async def test_a_claim_whose_write_fails_raises_and_its_call_is_never_made(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), recipients("R1", 1), None)
        claims = AttemptClaims(store, "R2", max_writes=2)  # no such request
        with pytest.raises(LookupError):
            await claims.claim(recipients("R2", 1), 1)
