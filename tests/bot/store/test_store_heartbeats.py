"""Heartbeats in the store (migration v12), on both backends: a watched heartbeat falls due on
the caller's clock, one of many racing schedulers (two stores: two replicas) marks it missed,
a ping resets it and hands back the miss's page, and a ping racing the miss wins or loses whole."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.store import Store
from tests.bot.store.test_store_pages import T0
from tests.bot.store_backends import Backend

LATE = timedelta(minutes=3)


async def test_a_heartbeat_falls_due_is_missed_once_and_a_ping_resets_it(store: Store) -> None:
    await store.watch_heartbeat("watchdog", T0 + LATE)
    await store.watch_heartbeat("watchdog", T0 + 2 * LATE)  # watched already: unchanged
    assert await store.due_heartbeats(T0 + LATE - timedelta(seconds=1)) == []
    (due,) = await store.due_heartbeats(T0 + LATE)
    assert (due.name, due.state, due.last_ping_at, due.due_at) == (
        "watchdog",
        "ok",
        None,
        T0 + LATE,
    )
    assert await store.miss_heartbeat("watchdog", due.version, "PHB000001", T0 + LATE)
    assert not await store.miss_heartbeat("watchdog", due.version, "PHB000002", T0 + LATE)
    assert await store.due_heartbeats(T0 + 10 * LATE) == []  # missed: paged, not due again
    before = await store.ping_heartbeat("watchdog", T0 + 4 * LATE, T0 + 5 * LATE)
    assert before is not None
    assert (before.state, before.page_id) == ("missed", "PHB000001")
    now = await store.heartbeat("watchdog")
    assert now is not None
    assert (now.state, now.page_id, now.last_ping_at, now.due_at) == (
        "ok", None, T0 + 4 * LATE, T0 + 5 * LATE,
    )  # fmt: skip
    assert await store.ping_heartbeat("fresh", T0, T0 + LATE) is None  # not watched yet
    assert await store.heartbeat("fresh") is not None


async def test_racing_schedulers_and_a_ping_on_two_stores(backend: Backend) -> None:
    async with backend.store() as one, backend.store() as two:
        await one.watch_heartbeat("watchdog", T0)
        (due,) = await two.due_heartbeats(T0)
        won = await asyncio.gather(
            *(
                (one if n % 2 else two).miss_heartbeat("watchdog", due.version, "PHB000001", T0)
                for n in range(8)
            )
        )
        assert sum(won) == 1
        # A ping and a stale miss race: the ping's reset stands, the stale miss changes nothing.
        pinged, missed = await asyncio.gather(
            two.ping_heartbeat("watchdog", T0, T0 + LATE),
            one.miss_heartbeat("watchdog", due.version, "PHB000009", T0),
        )
        assert pinged is not None
        assert not missed
        final = await two.heartbeat("watchdog")
        assert final is not None
        assert (final.state, final.page_id) == ("ok", None)
