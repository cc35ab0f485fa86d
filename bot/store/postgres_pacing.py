"""Accounts' request slots and 429 pauses in PostgreSQL, shared by every replica.

One row per account: ``next_slot_at`` (the first slot nobody has claimed) and ``paused_until``.
A claim is one upsert: the row lock serialises replicas, so each claim's slots start where the
previous claim's ended (or now, or after a pause, whichever is latest) and no two slots overlap.
Times come from ``clock_timestamp()`` — the database's clock, the one all replicas share — and
are returned as seconds from it, so no replica's own clock is ever compared with another's.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from bot.store.postgres_pool import Connections

# $1 account, $2 interval (s), $3 slots. The first claimed slot is the new next_slot_at less
# the claimed span. EXTRACT of a NULL (never paused) is NULL: no pause.
_CLAIM = """
    INSERT INTO account_pacing AS p (account, next_slot_at)
    VALUES ($1, clock_timestamp() + make_interval(secs => $2::float8 * $3::int))
    ON CONFLICT (account) DO UPDATE SET next_slot_at =
        GREATEST(p.next_slot_at, clock_timestamp(), p.paused_until)
        + make_interval(secs => $2::float8 * $3::int)
    RETURNING
        EXTRACT(EPOCH FROM p.next_slot_at - clock_timestamp())::float8 - $2::float8 * $3::int,
        COALESCE(EXTRACT(EPOCH FROM p.paused_until - clock_timestamp())::float8, 0)
"""
_PAUSE = """
    INSERT INTO account_pacing AS p (account, paused_until)
    VALUES ($1, clock_timestamp() + make_interval(secs => $2::float8))
    ON CONFLICT (account) DO UPDATE SET
        paused_until = GREATEST(p.paused_until, EXCLUDED.paused_until)
    RETURNING EXTRACT(EPOCH FROM p.paused_until - clock_timestamp())::float8
"""
_PAUSED = """
    SELECT EXTRACT(EPOCH FROM paused_until - clock_timestamp())::float8
    FROM account_pacing WHERE account = $1
"""


class PostgresSlotClaimer:
    """``bot.store.base.SlotClaimer`` over the store's pool: one statement per call, no
    transaction around it (an upsert is atomic on its own, and BEGIN/COMMIT are round trips)."""

    def __init__(self, pool: Callable[[], Connections], timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def claim_slots(self, account: str, count: int, interval: float) -> tuple[float, float]:
        if count < 1 or interval <= 0:
            raise ValueError("claim at least one slot, at a positive interval")
        row = await self._fetchrow(_CLAIM, account, interval, count)
        assert row is not None  # an upsert with RETURNING always returns its row
        return float(row[0]), max(0.0, float(row[1]))

    async def pause_account(self, account: str, seconds: float) -> float:
        row = await self._fetchrow(_PAUSE, account, max(0.0, seconds))
        assert row is not None
        return max(0.0, float(row[0]))

    async def account_pause(self, account: str) -> float:
        row = await self._fetchrow(_PAUSED, account)
        return 0.0 if row is None or row[0] is None else max(0.0, float(row[0]))

    async def _fetchrow(self, sql: str, *args: object) -> asyncpg.Record | None:
        async with self._pool().one() as conn:
            return await conn.fetchrow(sql, *args, timeout=self._timeout)
