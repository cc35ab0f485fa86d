"""Migration v11 on both stores: one firing alert group per (integration, key), however many
deliveries race, from one store or two (two replicas); repeats count; a resolved group frees
its key so firing again is a new group; a page ended at the source is ended once. Every
notification is written as the product writes it: ``record_alert_notes`` (here one a call)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from bot.store import Store
from bot.store.alerts_base import AlertGroup, AlertNote, NewAlertGroup
from tests.bot.store.test_store_pages import T0, new_page
from tests.bot.store_backends import Backend


def group(group_id: str = "G1", key: str = "k1") -> NewAlertGroup:
    return NewAlertGroup(
        group_id, "prod-am", f"hash-{key}", key, "db-outage", "[critical] DB down", "{}", T0,
        "C0OPS0001",
    )  # fmt: skip


def firing(new: NewAlertGroup) -> AlertNote:
    """A firing notification that opens ``new`` (with no page) if nothing fires under its key."""
    return AlertNote(new.integration, new.group_hash, new.at, new.detail, lambda _: (new, None))


async def open_group(store: Store, new: NewAlertGroup) -> tuple[AlertGroup, bool]:
    """Record one firing notification: its group, and whether it opened it."""
    (recorded,) = await store.record_alert_notes([firing(new)])
    assert recorded.group is not None  # a firing notification always has its group
    return recorded.group, recorded.created


async def resolve_group(
    store: Store, integration: str, group_hash: str, at: datetime, detail: str | None = None
) -> AlertGroup | None:
    """Record one resolve: the group it ended (None: nothing fired under the key)."""
    note = AlertNote(integration, group_hash, at, detail, None)
    (recorded,) = await store.record_alert_notes([note])
    assert not recorded.created  # a resolve never opens a group
    return recorded.group


async def test_repeats_count_and_a_resolved_group_frees_its_key(store: Store) -> None:
    first, created = await open_group(store, group("G1"))
    assert created
    assert (first.state, first.count, first.page_id) == ("firing", 1, None)
    later = replace(group("G2"), at=T0 + timedelta(minutes=1), detail='{"n": 2}')
    again, created = await open_group(store, later)
    assert not created
    assert (again.group_id, again.count, again.last_at, again.detail) == (
        "G1", 2, T0 + timedelta(minutes=1), '{"n": 2}',
    )  # fmt: skip
    assert await store.alert_group("G2") is None
    assert await store.set_alert_group_page("G1", "P7K3QX9A2")
    assert not await store.set_alert_group_page("G1", "POTHER000")  # the first stays
    found = await store.alert_group_of_page("P7K3QX9A2")
    assert found is not None
    assert found.group_id == "G1"

    resolved = await resolve_group(store, "prod-am", "hash-k1", T0 + timedelta(minutes=2), None)
    assert resolved is not None
    assert (resolved.state, resolved.resolved_at) == ("resolved", T0 + timedelta(minutes=2))
    assert await resolve_group(store, "prod-am", "hash-k1", T0, None) is None  # once
    fresh, created = await open_group(store, group("G3"))
    assert created  # fired again after it was resolved: a new group
    assert fresh.count == 1
    _, created = await open_group(store, replace(group("G4"), integration="staging"))
    assert created  # the same key from another integration is another group


async def test_racing_deliveries_on_two_stores_open_one_group(backend: Backend) -> None:
    async with backend.store() as one, backend.store() as two:
        results = await asyncio.gather(
            *(open_group(one if i % 2 else two, group(f"GRACE{i:03d}")) for i in range(20))
        )
    assert sum(created for _, created in results) == 1
    assert len({g.group_id for g, _ in results}) == 1
    assert max(g.count for g, _ in results) == 20


async def test_a_page_ended_at_the_source_is_ended_once_and_says_by_whom(store: Store) -> None:
    page = await store.create_page(new_page())
    assert await store.end_page_at_source(page.page_id, "source:prod-am", T0)
    assert not await store.end_page_at_source(page.page_id, "source:prod-am", T0)
    ended = await store.get_page(page.page_id)
    assert ended is not None
    assert (ended.state, ended.acknowledged_by, ended.next_at) == ("ended", "source:prod-am", None)
    assert await store.due_pages(T0 + timedelta(days=1)) == []


async def test_keep_records_removes_resolved_groups_only(store: Store) -> None:
    await open_group(store, group("GOLD", key="old"))
    await resolve_group(store, "prod-am", "hash-old", T0 + timedelta(hours=1), None)
    await open_group(store, group("GFIRING", key="firing"))  # as old, but firing
    await open_group(store, group("GNEW", key="new"))
    await resolve_group(store, "prod-am", "hash-new", T0 + timedelta(days=200), None)
    cutoff = T0 + timedelta(days=100)
    assert (await store.purge_step(cutoff, 10))["alert_groups"] == 1
    assert await store.alert_group("GOLD") is None
    assert await store.alert_group("GFIRING") is not None
    assert await store.alert_group("GNEW") is not None
    assert (await store.purge_step(cutoff, 10))["alert_groups"] == 0
