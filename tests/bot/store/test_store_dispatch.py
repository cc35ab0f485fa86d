"""The store as the dispatcher's Recorder, against the TalkNTalk emulator over loopback.

These are README's promises (the opening, and Operations, "The send record") end to end: every
outcome recorded; a crash mid-send resumed without messaging anyone twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.emulators.talkntalk import TalkNTalkState, create_app

from bot.accounts import Account, open_accounts
from bot.dispatch import Dispatcher, RetryPolicy
from bot.store import RecipientStatus
from bot.values import Plan
from providers import TalkNTalkConfig
from tests.bot.store_backends import Backend
from tests.bot.store_fixtures import ACCOUNT, MESSAGE, ROUTE, new_request, recipients
from tests.conftest import StartApp

NO_BACKOFF = RetryPolicy(base_delay=0, max_attempts=3, default_retry_after=0.01)
S = RecipientStatus


@asynccontextmanager
async def talkntalk(start_app: StartApp, state: TalkNTalkState) -> AsyncIterator[Account]:
    server = await start_app(create_app(state))
    config = TalkNTalkConfig(
        type="talkntalk",
        api_key=state.api_key,
        base_url=server.url,
        timeout_seconds=30,
        rate_per_minute=600_000,  # never paces a test
    )
    async with open_accounts({ACCOUNT: config}) as accounts:
        yield accounts[ACCOUNT]


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


def plan_for(request_id: str, count: int) -> Plan:
    return Plan(
        request_id=request_id,
        channel="oncall-sms",
        account=ACCOUNT,
        route=ROUTE,
        message=MESSAGE,
        recipients=tuple(recipients(request_id, count)),
    )


async def test_every_outcome_of_a_real_dispatch_is_recorded(
    backend: Backend, start_app: StartApp
) -> None:
    state = TalkNTalkState()
    state.inject(status=429, headers={"Retry-After": "0"})  # not sent: retried, sent on try 2
    state.inject(status=500, process=True)  # sent, then an error: unknown, never retried
    plan = plan_for("R1", 20)
    async with talkntalk(start_app, state) as account, backend.store() as store:
        await store.create_request(new_request("R1"), plan.recipients, None)
        dispatcher = Dispatcher({ACCOUNT: account}, recorder=store, retry=NO_BACKOFF)
        outcomes = await dispatcher.run(plan)
        counts = await store.counts("R1")
        stored = await store.recipients("R1")
    assert len(outcomes) == 20
    assert sum(counts[s] for s in ("sent", "unknown", "failed")) == 20
    assert counts["pending"] == counts["in_flight"] == 0
    by_ref = {o.recipient.ref: o for o in outcomes}
    for record in stored:
        outcome = by_ref[record.ref]
        assert record.status.value == outcome.status.value
        assert record.provider_message_id == outcome.provider_message_id
        assert record.attempts == outcome.attempts
    assert (counts["sent"], counts["unknown"]) == (19, 1)
    assert sorted(r.attempts for r in stored)[-1] == 2
    # Every recipient reached the emulator exactly once, the unknown one included.
    for record in stored:
        assert state.delivered_to(record.address.removeprefix("+")) == 1


async def test_a_send_killed_mid_flight_resumes_without_sending_anyone_twice(
    backend: Backend, start_app: StartApp
) -> None:
    state = TalkNTalkState()
    state.inject(Fault(times=4))  # four ordinary sends...
    state.inject(hang=True, process=True)  # ...then one reaches the phone and never answers
    plan = plan_for("R1", 10)
    async with talkntalk(start_app, state) as account:
        async with backend.store() as store:
            await store.create_request(new_request("R1"), plan.recipients, "slack:1")
            one_at_a_time = Dispatcher(
                {ACCOUNT: account}, recorder=store, retry=NO_BACKOFF, workers_per_send=1
            )
            sending = asyncio.create_task(one_at_a_time.run(plan))
            await until(lambda: len(state.deliveries) == 5)
            sending.cancel()  # the worker dies here, with one request on the wire
            await asyncio.gather(sending, return_exceptions=True)

        async with backend.store() as store:  # the restart
            (unfinished,) = await store.unfinished_requests()
            result = await store.recover(unfinished.request_id)
            assert [r.idx for r in result.marked_unknown] == [4]
            assert [r.idx for r in result.pending] == [5, 6, 7, 8, 9]
            resumed = Dispatcher({ACCOUNT: account}, recorder=store, retry=NO_BACKOFF)
            await resumed.run(replace(plan, recipients=result.to_send()))
            counts = await store.counts("R1")
    assert (counts["sent"], counts["unknown"], counts["total"]) == (9, 1, 10)
    for recipient in plan.recipients:
        assert state.delivered_to(recipient.address.removeprefix("+")) == 1
