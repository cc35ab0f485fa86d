"""The dispatcher against the real emulators: one outcome per recipient, and what is retried.

The rule under test (README, Operations, "Limits"): only what certainly did not go out is retried
(429, refused connections); anything that may have gone out is ``unknown`` and never retried on
its own, so nobody gets a message twice; permanent errors fail at once.
"""

from __future__ import annotations

import asyncio

import pytest
from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.emulators.suite import EmulatorSuite

from bot.dispatch import Dispatcher
from providers import AnyProviderConfig
from providers.base import InvalidMessage, Message, MessageType, OutcomeStatus
from tests.bot.dispatch_kit import (
    FAST,
    KALEYRA,
    SMS,
    WHATSAPP,
    Sightings,
    assert_one_outcome_each,
    by_status,
    closed_port,
    dispatcher,
    emulators,
    kal_config,
    numbers,
    plan,
    tnt_config,
)
from tests.clocks import HeldClock, VirtualClock, wait_until

__all__ = ["emulators"]


async def test_every_recipient_gets_one_sent_outcome_with_the_provider_message_id(
    emulators: EmulatorSuite,
) -> None:
    tnt = plan("tnt", SMS, numbers(5))
    kal = plan("kal", KALEYRA, numbers(2, start=50), request_id="RTEST0002")
    configs: dict[str, AnyProviderConfig] = {
        "tnt": tnt_config(emulators.url("talkntalk")),
        "kal": kal_config(emulators.url("kaleyra")),
    }
    async with dispatcher(configs) as d:
        outcomes = await d.run(tnt)
        kal_outcomes = await d.run(kal)

    for sent_plan, got, state in (
        (tnt, outcomes, emulators.talkntalk),
        (kal, kal_outcomes, emulators.kaleyra),
    ):
        assert_one_outcome_each(sent_plan, got)
        # TalkNTalk records the digits it was given, Kaleyra the E.164 form.
        ids = {d.recipient.removeprefix("+"): d.message_id for d in state.deliveries}
        for outcome in got:
            assert outcome.status is OutcomeStatus.SENT
            assert outcome.attempts == 1
            # The id the provider gave for that very phone, for receipts to match.
            assert outcome.provider_message_id
            assert outcome.provider_message_id == ids[outcome.recipient.address[1:]]
    assert len(emulators.talkntalk.requests) == 5
    assert len(emulators.kaleyra.requests) == 2


async def test_429_with_retry_after_is_sent_on_the_second_attempt_after_the_pause(
    emulators: EmulatorSuite,
) -> None:
    state = emulators.talkntalk
    state.inject(status=429, headers={"Retry-After": "0.3"})
    clock = VirtualClock()
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}, clock=clock) as d:
        [outcome] = await d.run(plan("tnt", WHATSAPP, numbers(1)))

    assert outcome.status is OutcomeStatus.SENT
    assert outcome.attempts == 2
    assert outcome.provider_message_id == state.deliveries[0].message_id
    assert len(state.requests) == 2
    # Waited what Retry-After asked, once, and nothing more: back-off is off in FAST.
    assert clock.sleeps == pytest.approx([0.3])


async def test_a_429_pauses_the_whole_account_so_another_send_waits_too(
    emulators: EmulatorSuite,
) -> None:
    state = emulators.talkntalk
    state.inject(status=429, headers={"Retry-After": "0.5"})
    clock = HeldClock()  # time stands still, and every wait lasts until released
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}, clock=clock) as d:
        first = asyncio.create_task(d.run(plan("tnt", SMS, numbers(1))))
        await wait_until(lambda: clock.sleeps, what="the first send waiting out the 429")
        assert len(state.requests) == 1
        assert d.accounts["tnt"].limiter.paused_for == pytest.approx(0.5)
        other = asyncio.create_task(
            d.run(plan("tnt", SMS, numbers(1, start=9), request_id="RTEST0002"))
        )
        await wait_until(lambda: len(clock.sleeps) == 2, what="the other send waiting too")
        assert clock.sleeps == pytest.approx([0.5, 0.5])  # both wait out the pause ...
        assert len(state.requests) == 1  # ... and neither sent into it
        clock.release()
        [sent_other] = await other
        await first

    assert sent_other.status is OutcomeStatus.SENT
    assert len(state.requests) == 3


async def test_429_longer_than_max_retry_after_fails_at_once_with_a_clear_reason(
    emulators: EmulatorSuite,
) -> None:
    emulators.talkntalk.inject(status=429, headers={"Retry-After": "3600"})
    clock = VirtualClock()
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}, clock=clock) as d:
        [outcome] = await d.run(plan("tnt", SMS, numbers(1)))

    assert clock.sleeps == []  # not an hour, not at all
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.http_status == 429
    assert outcome.reason is not None
    assert "3600 s" in outcome.reason
    assert "too long to wait" in outcome.reason
    assert len(emulators.talkntalk.requests) == 1


async def test_a_too_long_pause_fails_the_rest_of_the_send_without_waiting_or_sending(
    emulators: EmulatorSuite,
) -> None:
    """One at a time, so the other two recipients meet the account's hour-long pause."""
    emulators.talkntalk.inject(status=429, headers={"Retry-After": "3600"})
    config = tnt_config(emulators.url("talkntalk"), max_concurrency=1)
    the_plan = plan("tnt", SMS, numbers(3))
    async with dispatcher({"tnt": config}) as d:
        outcomes = await asyncio.wait_for(d.run(the_plan), 30)  # an hour-long pause is not waited

    assert_one_outcome_each(the_plan, outcomes)
    assert by_status(outcomes) == {OutcomeStatus.FAILED: 3}
    assert all("too long to wait" in (o.reason or "") for o in outcomes)
    assert len(emulators.talkntalk.requests) == 1  # nothing more was sent into the pause


async def test_429_that_persists_fails_after_max_rate_limited_attempts(
    emulators: EmulatorSuite,
) -> None:
    emulators.talkntalk.inject(status=429, headers={"Retry-After": "0"}, times=10)
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}) as d:
        [outcome] = await d.run(plan("tnt", SMS, numbers(1)))

    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.attempts == FAST.max_rate_limited_attempts
    assert "still rate limited" in (outcome.reason or "")
    assert len(emulators.talkntalk.requests) == FAST.max_rate_limited_attempts


async def test_connection_refused_is_retried_up_to_max_attempts_then_failed(
    emulators: EmulatorSuite,
) -> None:
    recorder = Sightings(emulators.talkntalk)
    config = tnt_config(f"http://127.0.0.1:{closed_port()}")
    async with dispatcher({"tnt": config}, recorder=recorder) as d:
        [outcome] = await d.run(plan("tnt", SMS, numbers(1)))

    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.attempts == FAST.max_attempts
    assert [attempt for attempt, _ in recorder.started] == [1, 2, 3]
    assert "nothing was sent" in (outcome.reason or "")
    assert f"gave up after {FAST.max_attempts} attempts" in (outcome.reason or "")


async def test_500_is_unknown_and_not_retried(emulators: EmulatorSuite) -> None:
    emulators.talkntalk.inject(status=500)
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}) as d:
        [outcome] = await d.run(plan("tnt", WHATSAPP, numbers(1)))

    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.http_status == 500
    assert outcome.attempts == 1
    assert len(emulators.talkntalk.requests) == 1


async def test_hang_past_the_timeout_is_unknown_and_not_retried(
    emulators: EmulatorSuite,
) -> None:
    emulators.talkntalk.inject(hang=True)
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}) as d:
        # timeout_seconds=0.4; the generous bound only catches a send that never gives up.
        [outcome] = await asyncio.wait_for(d.run(plan("tnt", SMS, numbers(1))), 30)

    assert outcome.status is OutcomeStatus.UNKNOWN
    assert "may have gone out" in (outcome.reason or "")
    assert len(emulators.talkntalk.requests) == 1


async def test_drop_after_processing_is_unknown_and_delivered_exactly_once(
    emulators: EmulatorSuite,
) -> None:
    state = emulators.talkntalk
    state.inject(drop=True, process=True)
    [number] = numbers(1)
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}) as d:
        [outcome] = await d.run(plan("tnt", SMS, [number]))

    assert outcome.status is OutcomeStatus.UNKNOWN
    assert state.delivered_to(number.removeprefix("+")) == 1  # the phone got it, once
    assert len(state.requests) == 1


async def test_402_insufficient_balance_fails_and_is_not_retried(
    emulators: EmulatorSuite,
) -> None:
    emulators.talkntalk.balance = 0
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}) as d:
        [outcome] = await d.run(plan("tnt", SMS, numbers(1)))

    assert outcome.status is OutcomeStatus.FAILED
    assert (outcome.http_status, outcome.code) == (402, "insufficient_balance")
    assert "balance" in (outcome.reason or "").lower()
    assert len(emulators.talkntalk.requests) == 1


async def test_in_a_mixed_batch_only_the_recipient_that_hit_the_fault_is_not_sent(
    emulators: EmulatorSuite,
) -> None:
    state = emulators.talkntalk
    state.inject(Fault(status=500))  # the next request, whichever recipient it is for
    the_plan = plan("tnt", SMS, numbers(4))
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}) as d:
        outcomes = await d.run(the_plan)

    assert_one_outcome_each(the_plan, outcomes)
    assert by_status(outcomes) == {OutcomeStatus.SENT: 3, OutcomeStatus.UNKNOWN: 1}
    assert len(state.requests) == 4  # the unknown one was not tried again
    sent = {o.recipient.address.removeprefix("+") for o in outcomes if o.status == "sent"}
    assert sent == {d.recipient for d in state.deliveries}


async def test_an_invalid_message_is_refused_before_any_request(
    emulators: EmulatorSuite,
) -> None:
    image = Message(type=MessageType.IMAGE, media_url="https://example.com/a.jpg")
    async with dispatcher({"tnt": tnt_config(emulators.url("talkntalk"))}) as d:
        with pytest.raises(InvalidMessage, match="SMS takes text only"):
            await d.run(plan("tnt", SMS, numbers(2), image))
    assert emulators.talkntalk.requests == []


async def test_a_plan_for_an_unknown_account_names_it(emulators: EmulatorSuite) -> None:
    with pytest.raises(KeyError, match="nope"):
        await Dispatcher({}, retry=FAST).run(plan("nope", SMS, numbers(1)))


async def test_429_without_retry_after_waits_the_configured_default(
    emulators: EmulatorSuite,
) -> None:
    state = emulators.kaleyra
    state.inject(status=429)  # no Retry-After header at all
    clock = VirtualClock()
    async with dispatcher({"kal": kal_config(emulators.url("kaleyra"))}, clock=clock) as d:
        [outcome] = await d.run(plan("kal", KALEYRA, numbers(1)))

    assert (outcome.status, outcome.attempts) == (OutcomeStatus.SENT, 2)
    assert len(state.requests) == 2
    assert clock.sleeps == pytest.approx([FAST.default_retry_after])
