"""Chaos mode on the shared emulator state: a seeded random share of requests gets a fault.

Why: the fault benchmark (bench/faults.py) and soak tests need "20 % of calls misbehave" without
queueing a thousand faults by hand, and the figures must be repeatable from a seed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.common import EmulatorState, Fault
from bridge_sandbox.emulators.talkntalk import TalkNTalkState, create_app

from tests.conftest import StartApp

KEY = "test-key"
SMS = "/v1/sms/send/"


def body(i: int) -> dict[str, str]:
    return {"mobile": f"2547{i:08d}", "message": "hello"}


@pytest.fixture
async def emu(start_app: StartApp) -> tuple[str, TalkNTalkState]:
    state = TalkNTalkState(api_key=KEY)
    server = await start_app(create_app(state))
    return server.url, state


async def post(session: aiohttp.ClientSession, url: str, i: int) -> int:
    async with session.post(
        url + SMS, json=body(i), headers={"Authorization": f"Bearer {KEY}"}
    ) as resp:
        await resp.read()
        return resp.status


def draws(state: EmulatorState, n: int) -> list[Any]:
    return [(f.status, f.process) if (f := state.next_fault()) else None for _ in range(n)]


def test_chaos_off_by_default_leaves_next_fault_empty() -> None:
    state = EmulatorState()
    assert state.chaos == []
    assert [state.next_fault() for _ in range(100)] == [None] * 100
    assert state.chaos_applied == 0


def test_chaos_draws_the_configured_share_repeatably_from_a_seed() -> None:
    mix = [(0.1, Fault(status=500)), (0.1, Fault(status=429, process=False))]
    one = EmulatorState(chaos=mix, chaos_seed=42)
    two = EmulatorState(chaos=list(mix), chaos_seed=42)
    first, second = draws(one, 2000), draws(two, 2000)
    assert first == second  # same seed, same sequence
    counts = Counter(first)
    assert 300 <= counts[(500, False)] + counts[(429, False)] <= 500  # ~20 % of 2000
    assert 120 <= counts[(500, False)] <= 280
    assert 120 <= counts[(429, False)] <= 280
    assert one.chaos_applied == 2000 - counts[None]


def test_queued_faults_come_before_chaos_and_templates_are_not_used_up() -> None:
    template = Fault(status=503)
    state = EmulatorState(chaos=[(1.0, template)], chaos_seed=1)
    state.inject(status=418)
    got = [state.next_fault() for _ in range(3)]
    assert [f.status if f else None for f in got] == [418, 503, 503]
    assert template.times == 1  # chaos hands out copies; the template is never consumed
    assert got[1] is not template


@pytest.mark.parametrize("mix", [[(1.5, Fault())], [(-0.1, Fault())], [(0.6, Fault())] * 2])
def test_chaos_rejects_probabilities_outside_zero_to_one(mix: list[tuple[float, Fault]]) -> None:
    with pytest.raises(ValueError, match="probabilities"):
        EmulatorState(chaos=mix)


async def test_chaos_faults_reach_the_wire_and_undelivered_ones_deliver_nothing(
    emu: tuple[str, TalkNTalkState],
) -> None:
    url, state = emu
    state.set_chaos([(0.3, Fault(status=500)), (0.2, Fault(status=502, process=True))], seed=7)
    async with aiohttp.ClientSession() as session:
        statuses = [await post(session, url, i) for i in range(200)]
    counts = Counter(statuses)
    assert set(counts) == {201, 500, 502}
    assert counts[500] + counts[502] == state.chaos_applied
    # A fault with process=True delivers first (the ambiguous case); a plain one delivers nothing.
    assert len(state.deliveries) == counts[201] + counts[502]
    state.reset()  # forgets what was recorded, keeps the chaos setting
    assert state.chaos_applied == 0
    assert state.chaos


async def test_chaos_can_be_set_and_stopped_over_the_control_api(
    emu: tuple[str, TalkNTalkState],
) -> None:
    url, _ = emu
    async with aiohttp.ClientSession() as session:
        setting = {"seed": 3, "faults": [{"probability": 1.0, "fault": {"status": 503}}]}
        async with session.post(url + "/_emulator/chaos", json=setting) as resp:
            assert resp.status == 200
        assert await post(session, url, 1) == 503
        async with session.post(url + "/_emulator/chaos", json={"faults": [{"x": 1}]}) as resp:
            assert resp.status == 400
        async with session.post(url + "/_emulator/chaos", json={"faults": []}) as resp:
            assert resp.status == 200
        assert await post(session, url, 2) == 201
        async with session.get(url + "/_emulator/requests") as resp:
            assert (await resp.json())["chaos_applied"] == 1
