"""Migration v7 on both stores: a page's timeline in the order it happened, and a page started
once per idempotency key (a modal submitted twice, or on two replicas, starts one page)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.store import Store
from bot.store.migrations import latest_version
from tests.bot.store.test_store_pages import T0, new_page
from tests.bot.store_backends import Backend


async def test_events_at_one_moment_come_back_in_the_order_they_were_added(
    store: Store,
) -> None:
    # Several events in one step share a timestamp (and a frozen clock makes all of them
    # share one): their keys sort the other way round from the order they happened in.
    await store.create_page(new_page())
    keys = ["step:0:0", "paged:0:0:bob", "paged:0:0:alice", "fallback:0:0:alice", "ack"]
    for key in keys:
        assert await store.add_page_event("P7K3QX9A2", key, T0, f"event {key}")
    assert [e.event_key for e in await store.page_events("P7K3QX9A2")] == keys


async def test_a_second_start_with_the_same_key_returns_the_first_page(store: Store) -> None:
    first = await store.create_page(replace(new_page("PAAAA1111"), idempotency_key="view:V1"))
    again = await store.create_page(replace(new_page("PBBBB2222"), idempotency_key="view:V1"))
    assert again.page_id == first.page_id == "PAAAA1111"
    assert await store.get_page("PBBBB2222") is None
    assert first.idempotency_key == "view:V1"
    other = await store.create_page(replace(new_page("PCCCC3333"), idempotency_key="view:V2"))
    assert other.page_id == "PCCCC3333"
    keyless = [await store.create_page(new_page(p)) for p in ("PDDDD4444", "PEEEE5555")]
    assert [p.page_id for p in keyless] == ["PDDDD4444", "PEEEE5555"]  # no key: no dedupe


async def test_racing_starts_with_one_key_make_one_page(store: Store) -> None:
    results = await asyncio.gather(
        *(
            store.create_page(replace(new_page(f"PRACE000{i}"), idempotency_key="view:V9"))
            for i in range(5)
        )
    )
    assert len({r.page_id for r in results}) == 1
    assert len(await store.active_pages()) == 1


async def test_a_v6_record_upgrades_in_place_keeping_its_pages_and_timeline(
    backend: Backend,
) -> None:
    async with backend.store(migrations=backend.migrations[:6]):
        pass  # a send record written by the release before v7, with a page and its timeline
    at = "'2026-11-24T03:00:0{}.000000Z'"
    await backend.fetch(
        "INSERT INTO pages (page_id, escalation, text, next_at, created_at) VALUES"
        f" ('P7K3QX9A2', 'db-outage', 'DB down', {at.format(0)}, {at.format(0)})"
    )
    for i, key in enumerate(["step:0:0", "paged:0:0:alice"]):
        await backend.fetch(
            "INSERT INTO page_events (page_id, event_key, at, text) VALUES"
            f" ('P7K3QX9A2', '{key}', {at.format(i)}, '{key}')"
        )
    async with backend.store() as store:
        page = await store.get_page("P7K3QX9A2")
        assert page is not None
        assert (page.state, page.idempotency_key) == ("active", None)
        # After the upgrade, new events (at an earlier-sorting key, the same moment) follow.
        later = T0 + timedelta(seconds=1)
        await store.add_page_event("P7K3QX9A2", "ack", later, "ack")
        assert [e.event_key for e in await store.page_events("P7K3QX9A2")] == [
            "step:0:0",
            "paged:0:0:alice",
            "ack",
        ]
        keyed = await store.create_page(replace(new_page("PNEW00001"), idempotency_key="k"))
        assert keyed.idempotency_key == "k"
    assert await backend.version() == latest_version() >= 7
    assert "seq" in await backend.columns("page_events")
    assert "idempotency_key" in await backend.columns("pages")
