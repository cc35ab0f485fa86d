"""Alert storms in the store, on both backends: past ``max_pages`` alert pages of one integration
within ``per``, a start is refused however many race from two stores (two replicas); the
window slides on the caller's clock; one storm page opens per integration however many race,
takes groups while active (or acknowledged within its window), and lists its groups."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.store import Store
from bot.store.pages_base import NewPage
from tests.bot.store.test_store_alerts import group, open_group, resolve_group
from tests.bot.store.test_store_pages import T0
from tests.bot.store_backends import Backend

PER = timedelta(minutes=1)


def alert_page(n: int, at_s: int = 0) -> NewPage:
    return NewPage(
        f"PA{n:07d}", "db-outage", "[critical] down", None, "C0OPS0001",
        T0 + timedelta(seconds=at_s), f"alert:G{n}",
    )  # fmt: skip


def storm_page(n: int, integration: str = "prod-am", at_s: int = 0) -> NewPage:
    return NewPage(
        f"PS{n:07d}", "db-outage", "alert storm", None, "C0OPS0001",
        T0 + timedelta(seconds=at_s), f"storm:{integration}:PS{n:07d}",
    )  # fmt: skip


async def _groups(store: Store, count: int) -> None:
    for n in range(count):
        await open_group(store, group(f"G{n}", f"k{n}"))


async def test_racing_starts_on_two_stores_stop_at_the_limit(backend: Backend) -> None:
    async with backend.store() as one, backend.store() as two:
        await _groups(one, 12)
        started = await asyncio.gather(
            *(
                (one if n % 2 else two).start_alert_page(alert_page(n), "prod-am", 3, PER)
                for n in range(10)
            )
        )
        assert sum(p is not None for p in started) == 3
        first = next(p for p in started if p is not None)
        again = await one.start_alert_page(alert_page(int(first.page_id[2:])), "prod-am", 3, PER)
        assert again is not None  # a second start of a started group returns its page
        assert again.page_id == first.page_id
        # The window slides: a minute after those three started, a new group pages again.
        later = await two.start_alert_page(alert_page(10, at_s=60), "prod-am", 3, PER)
        assert later is not None
        assert (await one.start_alert_page(alert_page(11), "prod-am", None, PER)) is not None

        storms = await asyncio.gather(
            *((one if n % 2 else two).open_storm_page(storm_page(n), "prod-am", PER)
              for n in range(6))
        )  # fmt: skip
        assert len({p.page_id for p in storms}) == 1
        other = await one.open_storm_page(storm_page(9, "staging"), "staging", PER)
        assert other.page_id == "PS0000009"  # per integration


async def test_a_storm_page_takes_groups_until_it_ends(store: Store) -> None:
    first = await store.open_storm_page(storm_page(1), "prod-am", PER)
    assert first.page_id == "PS0000001"
    await _groups(store, 3)
    for n in range(3):
        assert await store.set_alert_group_page(f"G{n}", first.page_id)
    await resolve_group(store, "prod-am", "hash-k1", T0, None)
    listed = await store.alert_groups_of_page(first.page_id, 2)
    assert (listed.total, listed.firing, len(listed.groups)) == (3, 2, 2)
    assert all(g.state == "firing" for g in listed.groups)  # the firing first

    assert await store.acknowledge_page(first.page_id, "U0ALICE001", T0 + timedelta(seconds=30))
    still = await store.open_storm_page(storm_page(2, at_s=60), "prod-am", PER)
    assert still.page_id == first.page_id  # acknowledged within the window: it takes the group
    fresh = await store.open_storm_page(storm_page(3, at_s=91), "prod-am", PER)
    assert fresh.page_id == "PS0000003"  # a window after the ack: a new storm pages again
    odd = await store.open_storm_page(
        replace(storm_page(4, "a_b%"), idempotency_key="storm:a_b%:PS0000004"), "a_b%", PER
    )
    assert odd.page_id == "PS0000004"  # LIKE's wildcards in a name are only characters
