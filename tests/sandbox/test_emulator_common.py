"""The shared emulator toolkit (emulators/common.py), driven through the TalkNTalk one.

Faults, latency, the sliding-window rate limit and the /_emulator/* control API are what tests,
the demo and the benchmarks rely on to make a provider slow, broken or busy on demand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.emulators.talkntalk import TalkNTalkState, create_app

from tests.clocks import HeldSleep, VirtualClock
from tests.conftest import StartApp

KEY = "test-key"
SMS = "/v1/sms/send/"
GOOD = {"mobile": "254712345678", "message": "hello"}


class Emu:
    def __init__(self, url: str, session: aiohttp.ClientSession, state: TalkNTalkState) -> None:
        self.url, self.session, self.state = url, session, state

    async def send(self, wait: float = 5.0) -> tuple[int, dict[str, str], Any]:
        async with self.session.post(
            self.url + SMS,
            json=GOOD,
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=aiohttp.ClientTimeout(total=wait),
        ) as resp:
            body = await resp.json(content_type=None)
            return resp.status, dict(resp.headers), body

    async def control(self, method: str, name: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.url}/_emulator/{name}", json=body) as r:
            assert r.status == 200
            return await r.json()


@pytest.fixture
async def emu(start_app: StartApp) -> AsyncIterator[Emu]:
    state = TalkNTalkState(api_key=KEY)
    server = await start_app(create_app(state))
    async with aiohttp.ClientSession() as session:
        yield Emu(server.url, session, state)


# --- faults ------------------------------------------------------------------------------------


async def test_fault_before_processing_answers_and_delivers_nothing(emu: Emu) -> None:
    emu.state.inject(status=503, body={"detail": "maintenance"}, headers={"X-Why": "test"})
    status, headers, body = await emu.send()
    assert (status, body, headers["X-Why"]) == (503, {"detail": "maintenance"}, "test")
    assert emu.state.deliveries == []
    assert len(emu.state.requests) == 1


async def test_fault_with_process_true_delivers_then_answers_the_fault(emu: Emu) -> None:
    emu.state.inject(status=500, process=True)
    status, _, body = await emu.send()
    assert (status, body) == (500, {})
    assert emu.state.delivered_to("254712345678") == 1  # it reached the phone anyway


async def test_fault_applies_the_given_number_of_times_then_stops(emu: Emu) -> None:
    emu.state.inject(status=500, times=2)
    statuses = [(await emu.send())[0] for _ in range(3)]
    assert statuses == [500, 500, 201]
    assert not emu.state.faults


async def test_faults_apply_in_the_order_injected_and_zero_times_is_skipped(emu: Emu) -> None:
    emu.state.inject(status=500, times=0)
    emu.state.inject(Fault(status=502))
    emu.state.inject(status=429, headers={"Retry-After": "3"})
    first, second, third = [await emu.send() for _ in range(3)]
    assert (first[0], second[0], second[1]["Retry-After"], third[0]) == (502, 429, "3", 201)


async def test_hang_never_answers_so_the_client_times_out(emu: Emu) -> None:
    emu.state.inject(hang=True)
    with pytest.raises(asyncio.TimeoutError):
        await emu.send(wait=0.3)
    assert emu.state.deliveries == []
    assert (await emu.send())[0] == 201  # the next request is served normally


async def test_hang_after_processing_delivers_but_never_answers(emu: Emu) -> None:
    emu.state.inject(hang=True, process=True)
    with pytest.raises(asyncio.TimeoutError):
        await emu.send(wait=0.3)
    assert len(emu.state.deliveries) == 1


@pytest.mark.parametrize("process", [False, True])
async def test_drop_closes_the_connection_with_no_answer_and_no_server_noise(
    emu: Emu, process: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu.state.inject(drop=True, process=process)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await emu.send()
    assert len(emu.state.deliveries) == (1 if process else 0)
    assert (await emu.send())[0] == 201  # the server keeps serving
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert noisy == []  # aiohttp logs the abort at DEBUG ("premature client disconnection")


async def test_delay_holds_the_answer_then_processes_normally(emu: Emu) -> None:
    held = HeldSleep()
    emu.state.sleep = held
    emu.state.inject(delay=0.3)
    sending = asyncio.create_task(emu.send())
    await asyncio.wait_for(held.waiting.wait(), 10)
    assert held.asked == [0.3]
    assert not sending.done()
    assert emu.state.deliveries == []  # delayed before it is processed
    held.release()
    status, _, _ = await sending
    assert status == 201
    assert len(emu.state.deliveries) == 1


async def test_delay_combines_with_a_status(emu: Emu) -> None:
    clock = VirtualClock()
    emu.state.sleep = clock.sleep
    emu.state.inject(delay=0.2, status=504)
    assert (await emu.send())[0] == 504
    assert clock.sleeps == [0.2]


async def test_latency_applies_to_every_request(emu: Emu) -> None:
    clock = VirtualClock()
    emu.state.sleep = clock.sleep
    emu.state.latency = 0.15
    await emu.send()
    await emu.send()
    assert clock.sleeps == [0.15, 0.15]


# --- sliding-window rate limit -------------------------------------------------------------------


async def test_rate_limit_answers_429_with_retry_after_past_the_limit(emu: Emu) -> None:
    emu.state.rate_limit = 2
    emu.state.retry_after = 2.5
    results = [await emu.send() for _ in range(3)]
    assert [r[0] for r in results] == [201, 201, 429]
    assert results[2][1]["Retry-After"] == "2.5"
    assert emu.state.throttled == 1
    assert len(emu.state.deliveries) == 2


async def test_rate_limit_window_slides_rather_than_resetting(emu: Emu) -> None:
    clock = VirtualClock(start=0.0)
    emu.state.clock = clock
    emu.state.rate_limit = 2
    emu.state.rate_window = 1.0
    assert (await emu.send())[0] == 201  # t=0
    clock.advance(0.6)
    assert (await emu.send())[0] == 201  # t=0.6
    assert (await emu.send())[0] == 429  # two in the last second
    clock.advance(0.5)
    assert (await emu.send())[0] == 201  # t=1.1: the t=0 one left the window
    assert (await emu.send())[0] == 429  # t=0.6 and t=1.1 still in it (a fixed window would reset)
    assert emu.state.throttled == 2
    assert [r.at for r in emu.state.requests] == [0.0, 0.6, 0.6, 1.1, 1.1]


async def test_no_rate_limit_by_default(emu: Emu) -> None:
    # The doc's "300 requests per minute" is left to tests and benches to switch on.
    assert emu.state.rate_limit is None
    assert {(await emu.send())[0] for _ in range(20)} == {201}


# --- control API and reset -----------------------------------------------------------------------


async def test_control_api_injects_faults_changes_settings_and_reports(emu: Emu) -> None:
    assert await emu.control("POST", "fault", {"status": 503, "times": 2}) == {"ok": True}
    assert (await emu.send())[0] == 503
    assert (await emu.send())[0] == 503
    assert (await emu.send())[0] == 201
    await emu.control("POST", "settings", {"rate_limit": 1, "retry_after": 7, "latency": 0})
    assert (emu.state.rate_limit, emu.state.retry_after) == (1, 7)
    assert (await emu.send())[0] == 201  # the window counts from when the limit was set
    status, headers, _ = await emu.send()
    assert (status, headers["Retry-After"]) == (429, "7")
    report = await emu.control("GET", "requests")
    assert [r["path"] for r in report["requests"]] == [SMS] * 5  # control calls not recorded
    assert report["requests"][0] == {"method": "POST", "path": SMS, "body": GOOD}
    assert report["throttled"] == 1
    assert len(report["deliveries"]) == 2
    delivery = report["deliveries"][0]
    assert (delivery["recipient"], delivery["payload"]) == ("254712345678", GOOD)


async def test_control_fault_can_drop_after_processing(emu: Emu) -> None:
    await emu.control("POST", "fault", {"drop": True, "process": True})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await emu.send()
    assert len(emu.state.deliveries) == 1


async def test_reset_clears_what_was_recorded_and_queued_but_keeps_the_knobs(emu: Emu) -> None:
    emu.state.rate_limit = 1
    emu.state.balance = 10
    await emu.send()
    await emu.send()  # throttled
    emu.state.inject(status=500)
    assert await emu.control("POST", "reset") == {"ok": True}
    assert (emu.state.requests, emu.state.deliveries, list(emu.state.faults)) == ([], [], [])
    assert emu.state.throttled == 0
    assert (emu.state.rate_limit, emu.state.balance) == (1, 9)
    assert (await emu.send())[0] == 201  # the window was emptied too
    emu.state.reset()  # the in-process form does the same
    assert emu.state.requests == []
