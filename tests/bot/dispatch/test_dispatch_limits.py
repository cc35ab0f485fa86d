"""What the dispatcher shares between sends: batching, pace, concurrency, isolation, recording."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from bridge_sandbox.emulators import talkntalk
from bridge_sandbox.emulators.suite import EmulatorSuite

from providers import AnyProviderConfig
from providers.base import Outcome, OutcomeStatus, Recipient
from tests.bot.dispatch_kit import (
    KALEYRA,
    SMS,
    TNT_KEY,
    WABA,
    InFlight,
    Sightings,
    ak_config,
    assert_one_outcome_each,
    by_status,
    dispatcher,
    emulators,
    kal_config,
    numbers,
    plan,
    tnt_config,
)
from tests.clocks import VirtualClock, wait_until
from tests.conftest import StartApp

__all__ = ["emulators"]


# --- batching (AutoKonnect takes many recipients in one request) ------------------------------


async def test_autokonnect_1000_recipients_go_out_in_exactly_one_request(
    emulators: EmulatorSuite,
) -> None:
    the_plan = plan("ak", WABA, numbers(1000))
    async with dispatcher({"ak": ak_config(emulators.url("autokonnect"))}) as d:
        outcomes = await d.run(the_plan)

    assert_one_outcome_each(the_plan, outcomes)
    assert by_status(outcomes) == {OutcomeStatus.SENT: 1000}
    [request] = emulators.autokonnect.requests
    # "Bulk sending: When more than one recipient is resolved, messages are queued in a single
    # bulk operation"; "phone_number ... Can be a single value or an array."
    assert request.body["phone_number"] == numbers(1000)
    assert len(emulators.autokonnect.deliveries) == 1000


async def test_autokonnect_over_1000_recipients_are_split_into_batches_of_1000(
    emulators: EmulatorSuite,
) -> None:
    the_plan = plan("ak", WABA, numbers(2500))
    async with dispatcher({"ak": ak_config(emulators.url("autokonnect"))}) as d:
        outcomes = await d.run(the_plan)

    assert_one_outcome_each(the_plan, outcomes)
    assert by_status(outcomes) == {OutcomeStatus.SENT: 2500}
    sizes = sorted(len(r.body["phone_number"]) for r in emulators.autokonnect.requests)
    assert sizes == [500, 1000, 1000]
    assert len({d.recipient for d in emulators.autokonnect.deliveries}) == 2500


async def test_autokonnect_max_batch_sets_the_recipients_per_request(
    emulators: EmulatorSuite,
) -> None:
    the_plan = plan("ak", WABA, numbers(5))
    config = ak_config(emulators.url("autokonnect"), max_batch=2)
    async with dispatcher({"ak": config}) as d:
        outcomes = await d.run(the_plan)

    assert by_status(outcomes) == {OutcomeStatus.SENT: 5}
    sent = [r.body["phone_number"] for r in emulators.autokonnect.requests]
    # A lone number goes as a string, several as a list.
    assert sorted(len(p) if isinstance(p, list) else 1 for p in sent) == [1, 2, 2]


# --- pace and concurrency -----------------------------------------------------------------------


async def test_rate_per_minute_keeps_the_account_inside_the_providers_sliding_window(
    emulators: EmulatorSuite,
) -> None:
    state = emulators.kaleyra
    # The provider allows 40 per 2 s. The pacer and the provider's window read one virtual
    # clock, and one request is in flight at a time, so each arrives at the instant the pacer
    # let it go: the test checks the schedule against the window exactly, whatever the load.
    # (Real network jitter is bench/dispatch.py's scenario 2.)
    clock = VirtualClock()
    state.clock = clock
    state.rate_limit, state.rate_window = 40, 2.0
    config = kal_config(emulators.url("kaleyra"), rate_per_minute=40 * 30, max_concurrency=1)
    the_plan = plan("kal", KALEYRA, numbers(45))
    async with dispatcher({"kal": config}, clock=clock) as d:
        outcomes = await d.run(the_plan)

    assert state.throttled == 0  # not a single 429
    assert by_status(outcomes) == {OutcomeStatus.SENT: 45}
    assert len(state.requests) == 45
    assert state.requests[-1].at - state.requests[0].at > 2.0  # it really did span the window


async def test_requests_in_flight_never_exceed_max_concurrency(start_app: StartApp) -> None:
    state = talkntalk.TalkNTalkState(api_key=TNT_KEY)
    state.latency = 0.1
    app = talkntalk.create_app(state)
    counter = InFlight()
    app.middlewares.append(counter.middleware)
    server = await start_app(app)
    the_plan = plan("tnt", SMS, numbers(12))
    async with dispatcher({"tnt": tnt_config(server.url, max_concurrency=3)}) as d:
        outcomes = await d.run(the_plan)

    assert by_status(outcomes) == {OutcomeStatus.SENT: 12}
    assert counter.peak == 3  # 12 requests, each held 0.1 s at the provider: 3 at a time


async def test_max_concurrency_is_shared_by_two_sends_through_the_same_account(
    start_app: StartApp,
) -> None:
    state = talkntalk.TalkNTalkState(api_key=TNT_KEY)
    state.latency = 0.05
    app = talkntalk.create_app(state)
    counter = InFlight()
    app.middlewares.append(counter.middleware)
    server = await start_app(app)
    async with dispatcher({"tnt": tnt_config(server.url, max_concurrency=2)}) as d:
        await asyncio.gather(
            d.run(plan("tnt", SMS, numbers(6))),
            d.run(plan("tnt", SMS, numbers(6, start=6), request_id="RTEST0002")),
        )
    assert counter.peak == 2
    assert len(state.deliveries) == 12


async def test_one_account_down_does_not_hold_up_a_send_through_another(
    emulators: EmulatorSuite,
) -> None:
    emulators.talkntalk.inject(hang=True, times=100)  # TalkNTalk answers nothing at all
    configs: dict[str, AnyProviderConfig] = {
        # A timeout far longer than the other send needs, so the order below is not a race.
        "tnt": tnt_config(emulators.url("talkntalk"), timeout_seconds=3),
        "kal": kal_config(emulators.url("kaleyra")),
    }
    async with dispatcher(configs) as d:
        hung = asyncio.create_task(d.run(plan("tnt", SMS, numbers(3))))
        await wait_until(lambda: len(emulators.talkntalk.requests) == 3, what="3 hung requests")
        up = await d.run(plan("kal", KALEYRA, numbers(5, start=10), request_id="RTEST0002"))
        assert not hung.done()  # done while the hung ones still wait for their timeout
        down = await hung

    assert by_status(up) == {OutcomeStatus.SENT: 5}
    assert by_status(down) == {OutcomeStatus.UNKNOWN: 3}


# --- recording ------------------------------------------------------------------------------------


async def test_each_attempt_is_recorded_before_the_emulator_receives_it(
    emulators: EmulatorSuite,
) -> None:
    state = emulators.talkntalk
    state.inject(status=429, headers={"Retry-After": "0"})
    recorder = Sightings(state)
    async with dispatcher(
        {"tnt": tnt_config(emulators.url("talkntalk"), max_concurrency=1)}, recorder=recorder
    ) as d:
        await d.run(plan("tnt", SMS, numbers(2)))

    # One at a time: the 429'd first attempt, its retry, the second recipient (in either order).
    # Each was recorded when the emulator had received only the ones before it.
    assert sorted(attempt for attempt, _ in recorder.started) == [1, 1, 2]
    assert sorted(seen for _, seen in recorder.started) == [0, 1, 2]
    assert len(state.requests) == 3


async def test_each_outcome_is_recorded_before_it_is_yielded(emulators: EmulatorSuite) -> None:
    recorder = Sightings(emulators.talkntalk)
    the_plan = plan("tnt", SMS, numbers(5))
    emulators.talkntalk.inject(status=500)
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}, recorder=recorder) as d:
        async for outcome in d.dispatch(the_plan):
            assert recorder.recorded.get(outcome.recipient.ref) == outcome
    assert len(recorder.recorded) == 5


class Broken(Sightings):
    """A store that fails at one of its two calls."""

    fail_at: str = ""

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        if self.fail_at == "attempt_started":
            raise OSError("disk full")

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        if self.fail_at == "outcomes_recorded":
            raise OSError("disk full")


@pytest.mark.parametrize("fail_at", ["attempt_started", "outcomes_recorded"])
async def test_a_recorder_that_raises_makes_dispatch_raise(
    emulators: EmulatorSuite, fail_at: str
) -> None:
    recorder = Broken(emulators.talkntalk)
    recorder.fail_at = fail_at
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}, recorder=recorder) as d:
        with pytest.raises(OSError, match="disk full"):
            await d.run(plan("tnt", SMS, numbers(3)))
    if fail_at == "attempt_started":
        # Not recorded, so not sent: nothing goes out that the store does not know about.
        assert emulators.talkntalk.requests == []
