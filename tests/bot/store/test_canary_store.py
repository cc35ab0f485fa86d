"""The canary runs table on both stores: a period is claimed once however many replicas try at
once, judged once, and the latest judgement and last pass per canary read back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store import Store

P1 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
P2 = P1 + timedelta(days=1)


async def test_a_period_is_claimed_once_across_racing_replicas(store: Store) -> None:
    claims = await asyncio.gather(*(store.claim_canary("oncall-sms", P1, P1) for _ in range(6)))
    assert sorted(claims) == [False] * 5 + [True]
    assert await store.claim_canary("oncall-wa", P1, P1)  # another canary, its own period
    assert await store.claim_canary("oncall-sms", P2, P2)  # the next period
    (first, *_rest) = await store.unjudged_canaries()
    assert (first.canary, first.period, first.request_id, first.ok) == (
        "oncall-sms",
        P1,
        None,
        None,
    )


async def test_a_run_is_judged_once_and_the_last_pass_is_remembered(store: Store) -> None:
    await store.claim_canary("oncall-sms", P1, P1)
    await store.canary_sent("oncall-sms", P1, "RABCDEFGH")
    judged = await asyncio.gather(
        *(
            store.judge_canary("oncall-sms", P1, True, None, P1 + timedelta(minutes=1))
            for _ in range(4)
        )
    )
    assert sorted(judged) == [False, False, False, True]
    await store.claim_canary("oncall-sms", P2, P2)
    assert [r.period for r in await store.unjudged_canaries()] == [P2]
    assert await store.judge_canary("oncall-sms", P2, False, "wallet balance too low", P2)
    latest, last_ok = (await store.last_canaries())["oncall-sms"]
    assert (latest.period, latest.ok, latest.reason) == (P2, False, "wallet balance too low")
    assert latest.request_id is None
    assert last_ok == P1 + timedelta(minutes=1)
    assert await store.unjudged_canaries() == []
