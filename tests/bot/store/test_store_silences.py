"""Migration v12 on both stores: silences are in force from their start to their end (on the
caller's clock), end early once, are seen from a second store (another replica), and a group
born under a silence keeps its id; ``firing_alert_groups`` lists what fires with its page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.store import Store
from bot.store.alerts_base import AlertGroup
from bot.store.silences_base import Silence
from tests.bot.store.test_store_alerts import group, open_group, resolve_group
from tests.bot.store.test_store_pages import T0, new_page
from tests.bot.store_backends import Backend


def silence(silence_id: str = "S1", integration: str = "prod-am") -> Silence:
    return Silence(
        silence_id, integration, (("instance", "db-1"), ("severity", "critical")),
        "maintenance <b>&", "U0ALICE001", T0, T0 + timedelta(hours=2),
    )  # fmt: skip


async def test_a_silence_is_in_force_until_it_ends_and_ends_early_once(store: Store) -> None:
    await store.create_silence(silence())
    await store.create_silence(silence("S2", "staging"))
    found = await store.silence("S1")
    assert found == silence()  # the matchers, reason and times come back as given
    assert [s.silence_id for s in await store.active_silences("prod-am", T0)] == ["S1"]
    assert {s.silence_id for s in await store.active_silences(None, T0)} == {"S1", "S2"}
    assert await store.active_silences("prod-am", T0 - timedelta(seconds=1)) == []
    end = T0 + timedelta(hours=2)
    assert await store.active_silences("prod-am", end) == []  # expired by the clock alone
    assert not await store.end_silence("S1", "U0BOB00002", end)  # expired: nothing to end
    assert await store.end_silence("S1", "U0BOB00002", T0 + timedelta(minutes=5))
    assert not await store.end_silence("S1", "U0BOB00002", T0 + timedelta(minutes=6))
    ended = await store.silence("S1")
    assert ended is not None
    assert (ended.ended_by, ended.active(T0 + timedelta(minutes=6))) == ("U0BOB00002", False)
    assert await store.active_silences("prod-am", T0 + timedelta(minutes=6)) == []


async def test_a_silence_made_on_one_store_holds_on_another(backend: Backend) -> None:
    async with backend.store() as one, backend.store() as two:
        await one.create_silence(silence())
        assert [s.silence_id for s in await two.active_silences("prod-am", T0)] == ["S1"]
        assert await two.end_silence("S1", "U0ALICE001", T0)
        assert await one.active_silences("prod-am", T0) == []


async def test_firing_groups_are_listed_with_their_page_and_silence(store: Store) -> None:
    silenced, _ = await open_group(store, replace(group("G1", "k1"), silence_id="S1"))
    assert silenced.silence_id == "S1"
    await open_group(store, replace(group("G2", "k2"), at=T0 + timedelta(minutes=1)))
    page = await store.create_page(new_page("PALERT001"))
    assert await store.set_alert_group_page("G2", page.page_id)
    await open_group(store, group("G3", "k3"))
    await resolve_group(store, "prod-am", "hash-k3", T0, None)
    listed, total = await store.firing_alert_groups(10)
    assert total == 2
    assert [(f.group.group_id, f.page_state) for f in listed] == [("G2", "active"), ("G1", None)]
    assert listed[1].group.silence_id == "S1"
    few, total = await store.firing_alert_groups(1)
    assert (len(few), total) == (1, 2)


async def test_groups_whose_silence_ended_are_found_once_it_ends(store: Store) -> None:
    """``unsilenced_groups``: firing groups with no page whose silence expired or was ended by
    hand within the window asked (None: ever)."""
    await store.create_silence(silence("SEXPIRES"))  # ends at T0 + 2h
    await store.create_silence(replace(silence("SBYHAND"), ends_at=T0 + timedelta(days=1)))
    await open_group(store, replace(group("G1", "k1"), silence_id="SEXPIRES"))
    await open_group(store, replace(group("G2", "k2"), silence_id="SBYHAND"))
    await open_group(store, replace(group("G3", "k3"), silence_id="SEXPIRES"))
    await resolve_group(store, "prod-am", "hash-k3", T0, None)  # resolved: not asked for
    await open_group(store, replace(group("G4", "k4"), silence_id="SEXPIRES"))
    assert await store.set_alert_group_page("G4", "PALERT001")  # paging: its page says so

    def ids(found: list[AlertGroup]) -> list[str]:
        return [g.group_id for g in found]

    assert await store.unsilenced_groups(None, T0 + timedelta(hours=1)) == []
    at_end = T0 + timedelta(hours=2)
    assert ids(await store.unsilenced_groups(None, at_end)) == ["G1"]
    assert ids(await store.unsilenced_groups(at_end - timedelta(minutes=5), at_end)) == ["G1"]
    assert await store.unsilenced_groups(at_end, at_end + timedelta(minutes=5)) == []
    assert await store.end_silence("SBYHAND", "U0BOB00002", T0 + timedelta(hours=3))
    later = T0 + timedelta(hours=3, seconds=1)
    assert ids(await store.unsilenced_groups(at_end, later)) == ["G2"]
    assert ids(await store.unsilenced_groups(None, later)) == ["G1", "G2"]


async def test_a_group_held_again_names_its_new_silence_while_it_has_no_page(
    store: Store,
) -> None:
    await open_group(store, replace(group("G1", "k1"), silence_id="SOLD"))
    assert await store.set_alert_group_silence("G1", "SNEW")
    found = await store.alert_group("G1")
    assert found is not None
    assert found.silence_id == "SNEW"
    assert await store.set_alert_group_page("G1", "PALERT001")
    assert not await store.set_alert_group_silence("G1", "SLATER")  # paging: no silence holds it
    await resolve_group(store, "prod-am", "hash-k1", T0, None)
    await open_group(store, replace(group("G2", "k2"), silence_id="SOLD"))
    await resolve_group(store, "prod-am", "hash-k2", T0, None)
    assert not await store.set_alert_group_silence("G2", "SNEW")  # resolved: left as it was
