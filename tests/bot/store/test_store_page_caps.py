"""Active-page caps in the store, on both backends: a page past its sender's or its escalation's
cap is not recorded, and the count and the insert are one atomic step, so starts racing for the
last place — in one process, or from two stores on one database (two processes on a SQLite
file, two replicas on PostgreSQL) — record exactly one.

Why in the store: a check in memory, or a count read before the insert, lets 300 pages through
from two replicas (or two tasks) that each saw a free place.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Store
from bot.store.pages_base import NewPage, PageCapReached, PageCaps
from tests.bot.store_backends import Backend

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
ALICE = "U0ALICE001"
BOB = "U0BOB00002"
CAPS = PageCaps(per_sender=3, per_escalation=5)


def page(
    n: int, sender: str = ALICE, escalation: str = "db-outage", key: str | None = None
) -> NewPage:
    return NewPage(f"P{n:08d}", escalation, "DB down", sender, None, T0 + timedelta(seconds=n), key)


async def test_a_sender_at_the_cap_is_refused_with_the_count_and_oldest_pages(
    store: Store,
) -> None:
    for n in range(3):
        await store.create_page(page(n), CAPS)
    with pytest.raises(PageCapReached) as refused:
        await store.create_page(page(3), CAPS)
    assert (refused.value.which, refused.value.active, refused.value.limit) == ("sender", 3, 3)
    assert refused.value.oldest == ("P00000000", "P00000001", "P00000002")
    assert await store.get_page("P00000003") is None
    # Another sender still pages through the same escalation.
    await store.create_page(page(4, sender=BOB), CAPS)
    # An acknowledged (or ended) page frees its place.
    assert await store.acknowledge_page("P00000000", ALICE, T0)
    assert (await store.create_page(page(5), CAPS)).page_id == "P00000005"


async def test_an_escalation_at_the_cap_is_refused_whoever_pages(store: Store) -> None:
    senders = ["U1", "U2", "U3", "U4", "U5"]
    for n, sender in enumerate(senders):
        await store.create_page(page(n, sender=sender), CAPS)
    with pytest.raises(PageCapReached) as refused:
        await store.create_page(page(9, sender="U9"), CAPS)
    assert (refused.value.which, refused.value.active, refused.value.limit) == (
        "escalation",
        5,
        5,
    )
    await store.create_page(page(10, sender="U9", escalation="disk-warnings"), CAPS)


async def test_a_repeated_start_at_the_cap_returns_the_first_page(store: Store) -> None:
    for n in range(3):
        await store.create_page(page(n, key=f"view:{n}"), CAPS)
    again = await store.create_page(page(7, key="view:2"), CAPS)  # the same modal, again
    assert again.page_id == "P00000002"


async def test_starts_racing_for_the_last_place_record_one_across_two_stores(
    backend: Backend,
) -> None:
    async with backend.store() as first, backend.store() as second:
        for n in range(2):
            await first.create_page(page(n), CAPS)
        racers = [first, second] * 5
        results = await asyncio.gather(
            *(s.create_page(page(10 + i), CAPS) for i, s in enumerate(racers)),
            return_exceptions=True,
        )
        started = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, PageCapReached)]
        assert len(started) == 1
        assert len(refused) == len(racers) - 1
        active = [p for p in await second.active_pages() if p.sender == ALICE]
        assert len(active) == 3
