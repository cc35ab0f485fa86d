"""How the PostgreSQL store borrows pooled connections (``bot/store/postgres_pool.py``).

Why: asyncpg's ``acquire(timeout=…)`` and ``release`` each run in a task of their own, and
awaited in line they put five turns of a busy event loop around every statement, on the path
between a recipient's turn and its call. The store now bounds the wait with ``asyncio.timeout``
and hands the connection back without waiting; these tests pin what must still hold: every
connection goes back, a wait for one is bounded, and a cancelled claim leaves the store working
and its recipients all claimed or none.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.store.postgres import PostgresStore
from tests.bot.store_backends import PostgresBackend
from tests.bot.store_fixtures import new_request, recipients, sent


async def test_one_connection_serves_many_writes_one_after_another(
    postgres_backend: PostgresBackend,
) -> None:
    """With a pool of one, each write needs the connection the previous one handed back."""
    to = recipients("R1", 30)
    async with PostgresStore(postgres_backend.target, pool_size=1, timeout=10) as store:
        await store.create_request(new_request("R1"), to, None)
        for recipient in to:
            await store.attempt_started("R1", [recipient], 1)
            await store.outcomes_recorded("R1", [sent(recipient, f"m-{recipient.ref}")])
        assert {r.status.value for r in await store.recipients("R1")} == {"sent"}
    assert await postgres_backend.scalar("SELECT COUNT(*) FROM attempts") == 30


async def test_waiting_for_a_free_connection_is_bounded(
    postgres_backend: PostgresBackend,
) -> None:
    async with PostgresStore(postgres_backend.target, pool_size=1, timeout=0.3) as store:
        async with store._pool_or_raise().one():  # the only connection, held
            with pytest.raises(TimeoutError):
                await store.get_request("R1")
        assert await store.get_request("R1") is None  # handed back: usable again


async def test_a_claim_cancelled_mid_statement_is_all_or_nothing_and_the_store_goes_on(
    postgres_backend: PostgresBackend,
) -> None:
    """A claim runs in its caller's task: cancelled, it is committed or not, never in part,
    and its caller makes no call either way (the restart reports in-flight ones unknown)."""
    to = recipients("R1", 10)
    async with PostgresStore(postgres_backend.target, pool_size=2, timeout=10) as store:
        await store.create_request(new_request("R1"), to, None)
        for turns in range(0, 40, 4):  # cancelled after more and more of its steps
            claim = asyncio.ensure_future(store.attempt_started("R1", to[:5], turns + 1))
            for _ in range(turns):
                await asyncio.sleep(0)
            claim.cancel()
            await asyncio.gather(claim, return_exceptions=True)
        statuses = {r.ref: r.status.value for r in await store.recipients("R1")}
        assert len({statuses[r.ref] for r in to[:5]}) == 1  # all five alike
        await store.attempt_started("R1", to[5:], 1)
        statuses = {r.ref: r.status.value for r in await store.recipients("R1")}
        assert [statuses[r.ref] for r in to[5:]] == ["in_flight"] * 5
