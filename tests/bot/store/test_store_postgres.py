"""What only PostgreSQL has: replicas starting together migrate once, under an advisory lock.

(Every other promise is tested on both backends by the parametrized store suite.)
"""

from __future__ import annotations

import asyncio

import asyncpg

from bot.store.postgres_schema import MIGRATIONS
from tests.bot.store_backends import PostgresBackend

LOCK_KEY = "hashtext('chatops-bridge:migrate:' || current_schema())::bigint"


async def applied(backend: PostgresBackend) -> list[int]:
    return [v for (v,) in await backend.fetch("SELECT version FROM schema_migrations ORDER BY 1")]


async def test_an_empty_database_is_migrated_from_the_first_version(
    postgres_backend: PostgresBackend,
) -> None:
    assert await postgres_backend.tables() == set()
    async with postgres_backend.store() as store:
        assert await store.ping()
    assert await applied(postgres_backend) == [m.version for m in MIGRATIONS]
    assert await postgres_backend.tables() >= {"requests", "recipients", "attempts", "receipts"}


async def test_replicas_starting_together_apply_each_migration_once(
    postgres_backend: PostgresBackend,
) -> None:
    # Hold the migration lock, start two replicas: both must wait for it (not race to create
    # the tables); released, one applies every step and the other finds them done.
    holder = await asyncpg.connect(postgres_backend.target, timeout=10)
    try:
        key = await holder.fetchval(f"SELECT {LOCK_KEY}")
        await holder.execute("SELECT pg_advisory_lock($1)", key)
        replicas = [postgres_backend.store(), postgres_backend.store()]
        opening = asyncio.gather(*(r.open() for r in replicas))
        waiting = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND objsubid = 1 AND objid::bigint = ($1::bigint & 4294967295)"
        )
        for _ in range(1000):  # a generous deadline, polled
            if await holder.fetchval(waiting, key) == 2:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the replicas did not wait for the migration lock")
        assert not opening.done()
        await holder.execute("SELECT pg_advisory_unlock($1)", key)
        await asyncio.wait_for(opening, 60)
    finally:
        await holder.close()
    try:
        assert await applied(postgres_backend) == [m.version for m in MIGRATIONS]
    finally:
        await asyncio.gather(*(r.close() for r in replicas))


async def test_many_replicas_opening_at_once_all_start(postgres_backend: PostgresBackend) -> None:
    replicas = [postgres_backend.store() for _ in range(4)]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.open() for r in replicas)), 60)
        assert await applied(postgres_backend) == [m.version for m in MIGRATIONS]
    finally:
        await asyncio.gather(*(r.close() for r in replicas))
