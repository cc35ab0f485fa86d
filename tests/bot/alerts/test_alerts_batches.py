"""Group commit of alert notifications (``bot.alerts.batcher`` over
``AlertStore.record_alert_notes``), on both stores: notifications arriving together are one
transaction, each answered only once it is committed and counted exactly, from one store or two
(two replicas); a group's runs keep their order within a batch; a batch the database refuses
answers every waiter with an error (over HTTP: 503) and records none of it, and sending it again
starts one page, also from two real replicas racing on PostgreSQL. The refusal is the
database's own: a trigger that aborts inserts of one group key."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts.batcher import Batcher
from bot.store import Store
from bot.store.alerts_base import AlertNote, NewAlertGroup, Opening, Recorded
from bot.store.base import StoreError
from bot.store.pages_base import NewPage
from bot.store.silences_base import Silence
from tests.bot.alerts.test_alerts_e2e import pages_of
from tests.bot.alerts.test_alerts_replicas import ALERTING, deliver
from tests.bot.alerts_kit import AM_KEY, am_group, post, start_alerting
from tests.bot.crash_kit import CROWD
from tests.bot.paging_kit import Clock, sms_texts
from tests.bot.replica_kit import ReplicaRig, replica_config, start_replica_rig
from tests.bot.store.test_store_pages import T0
from tests.bot.store_backends import Backend, PostgresBackend
from tests.clocks import wait_until

SQLITE_BOOM = (
    "CREATE TRIGGER boom BEFORE INSERT ON alert_groups WHEN NEW.group_key = 'boom'"
    " BEGIN SELECT RAISE(ABORT, 'boom'); END",
)
POSTGRES_BOOM = (
    "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.group_key = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER boom BEFORE INSERT ON alert_groups FOR EACH ROW EXECUTE FUNCTION boom()",
)


async def refuse_boom(backend: Backend) -> None:
    """From now on the database refuses to insert a group whose key is ``boom``."""
    for statement in SQLITE_BOOM if backend.kind == "sqlite" else POSTGRES_BOOM:
        await backend.fetch(statement)


async def accept_boom(backend: Backend) -> None:
    await backend.fetch(
        "DROP TRIGGER boom" + ("" if backend.kind == "sqlite" else " ON alert_groups")
    )


def fire(key: str, n: int = 0, *, pages: bool = False) -> AlertNote:
    """A firing notification of group ``key`` (``n``: which one, for its detail and time)."""

    def opening(silences: Sequence[Silence]) -> Opening:
        group_id = f"G{key.upper()}{n:04d}"
        group = NewAlertGroup(
            group_id, "prod-am", f"hash-{key}", key, "db-outage", f"[critical] {key}",
            f'{{"n": {n}}}', T0 + timedelta(seconds=n), "C0OPS0001",
        )  # fmt: skip
        page = NewPage(
            f"P{key.upper()[:3]}{n:05d}", "db-outage", f"[critical] {key}", None, "C0OPS0001",
            T0 + timedelta(seconds=n), f"alert:{group_id}", None,
        )  # fmt: skip
        return group, page if pages else None

    return AlertNote("prod-am", f"hash-{key}", T0 + timedelta(seconds=n), f'{{"n": {n}}}', opening)


def resolve(key: str, n: int = 0) -> AlertNote:
    return AlertNote("prod-am", f"hash-{key}", T0 + timedelta(seconds=n), None, None)


async def test_notes_arriving_together_share_commits_and_each_is_counted_once(
    backend: Backend,
) -> None:
    keys, per_key = ["a", "b", "c", "d", "e"], 40
    async with backend.store() as one, backend.store() as two, backend.store() as reader:
        batchers = [Batcher(one.record_alert_notes), Batcher(two.record_alert_notes)]
        answered: Counter[str] = Counter()
        seen_below: list[str] = []

        async def send(key: str, n: int) -> Recorded:
            recorded = await batchers[n % 2].submit(fire(key, n))
            answered[key] += 1
            so_far = answered[key]  # every one of them answered: each must be committed
            assert recorded.group is not None
            now = await reader.alert_group(recorded.group.group_id)
            assert now is not None
            if now.count < so_far:  # an answer came before its commit
                seen_below.append(key)
            return recorded

        results = await asyncio.gather(
            *(send(key, n) for n in range(per_key) for key in keys)  # the groups interleaved
        )
        assert not seen_below
        created = Counter(r.group.group_key for r in results if r.created and r.group)
        assert created == Counter({key: 1 for key in keys})  # one group a key
        for key in keys:
            group = await reader.firing_alert_group("prod-am", f"hash-{key}")
            assert group is not None
            assert group.count == per_key  # each notification counted, once
            assert {r.group.group_id for r in results if r.group and r.group.group_key == key} == {
                group.group_id
            }
        flushes = sum(b.flushes for b in batchers)
        assert flushes < len(results) // 10  # together, not one transaction each


async def test_a_groups_runs_keep_their_order_within_one_batch(store: Store) -> None:
    notes = [
        fire("a", 1, pages=True), fire("a", 2), resolve("a", 3), resolve("a", 4),
        fire("a", 5, pages=True), fire("a", 6), fire("b", 7), resolve("c", 8),
    ]  # fmt: skip
    recorded = await store.record_alert_notes(notes)
    assert [(r.group.group_id if r.group else None, r.created) for r in recorded] == [
        ("GA0001", True), ("GA0001", False), ("GA0001", False), (None, False),
        ("GA0005", True), ("GA0005", False), ("GB0007", True), (None, False),
    ]  # fmt: skip
    first, second = await store.alert_group("GA0001"), await store.alert_group("GA0005")
    assert first is not None
    assert second is not None
    assert (first.state, first.count, first.resolved_at) == (
        "resolved",
        2,
        T0 + timedelta(seconds=3),
    )
    assert (second.state, second.count, second.detail) == ("firing", 2, '{"n": 6}')
    assert (second.first_at, second.last_at) == (
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=6),
    )
    # Each paging group's page was started in the same transaction, due at once.
    assert (first.page_id, second.page_id) == ("PA00001", "PA00005")
    page = await store.get_page("PA00005")
    assert page is not None
    assert (page.state, page.next_at, page.idempotency_key) == (
        "active", T0 + timedelta(seconds=5), "alert:GA0005",
    )  # fmt: skip
    b = await store.alert_group("GB0007")
    assert b is not None
    assert b.page_id is None  # its opening started no page
    assert await store.get_page("PB00007") is None


async def test_a_refused_batch_fails_every_waiter_and_records_none_of_it(
    backend: Backend,
) -> None:
    async with backend.store() as store:
        batcher = Batcher(store.record_alert_notes)
        await batcher.submit(fire("a", 0))
        await refuse_boom(backend)
        batch = [fire("a", 1), fire("a", 2), fire("boom", 3, pages=True), fire("c", 4)]
        answers = await asyncio.gather(
            *(batcher.submit(note) for note in batch), return_exceptions=True
        )
        assert all(isinstance(a, StoreError) for a in answers), answers
        a = await store.firing_alert_group("prod-am", "hash-a")
        assert a is not None
        assert a.count == 1  # the repeats counted before the refused insert: rolled back
        assert await store.firing_alert_group("prod-am", "hash-c") is None
        assert await store.get_page("PBOO00003") is None

        await accept_boom(backend)  # the source sends them all again
        again = await asyncio.gather(*(batcher.submit(note) for note in [*batch, *batch]))
        assert sum(r.created for r in again) == 2  # boom and c: one group each
        a = await store.firing_alert_group("prod-am", "hash-a")
        boom = await store.firing_alert_group("prod-am", "hash-boom")
        assert a is not None
        assert boom is not None
        assert (a.count, boom.count, boom.page_id) == (5, 2, "PBOO00003")


async def test_a_closed_store_answers_every_waiter_with_an_error(backend: Backend) -> None:
    store = backend.store()
    await store.open()
    batcher = Batcher(store.record_alert_notes)
    await store.close()
    answers = await asyncio.gather(
        *(batcher.submit(fire(key)) for key in "abc"), return_exceptions=True
    )
    assert all(isinstance(a, StoreError) for a in answers), answers
    async with backend.store() as reopened:
        assert await reopened.firing_alert_group("prod-am", "hash-a") is None


async def test_a_batch_the_database_refused_answers_503_and_the_retry_pages_once(
    tmp_path: Path,
) -> None:
    bridge = await start_alerting(tmp_path, Clock())
    try:
        boom = am_group(key="boom")
        boom["groupKey"] = "boom"
        backend_db = tmp_path / "bridge.db"
        with contextlib.closing(sqlite3.connect(backend_db)) as db, db:
            db.execute(SQLITE_BOOM[0])
        refused = await asyncio.gather(*(post(bridge, "/alerts/prod-am", boom) for _ in range(3)))
        assert [a.status for a in refused] == [503] * 3
        assert refused[0].body["message"] == "not recorded: send it again"
        assert await bridge.runtime.store.firing_alert_groups(10) == ([], 0)

        with contextlib.closing(sqlite3.connect(backend_db)) as db, db:
            db.execute("DROP TRIGGER boom")
        again = await asyncio.gather(*(post(bridge, "/alerts/prod-am", boom) for _ in range(3)))
        assert [a.status for a in again] == [202] * 3
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="the page's SMS")
        await bridge.idle()
        assert len(sms_texts(bridge)) == 1
        assert len(pages_of(bridge)) == 1
        (firing,), total = await bridge.runtime.store.firing_alert_groups(10)
        assert (total, firing.group.count) == (1, 3)
    finally:
        await bridge.world.close()


@pytest.mark.parametrize("max_items", [1, 3])
async def test_a_batch_holds_at_most_max_items(store: Store, max_items: int) -> None:
    batcher = Batcher(store.record_alert_notes, max_items=max_items)
    await asyncio.gather(*(batcher.submit(fire("a", n)) for n in range(6)))
    assert batcher.flushes == 6 // max_items
    a = await store.firing_alert_group("prod-am", "hash-a")
    assert a is not None
    assert a.count == 6


@pytest.fixture
async def rig(
    tmp_path: Path, postgres_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ReplicaRig]:
    """Replicas on one PostgreSQL whose integration has no storm limit: a new group's page is
    started in the transaction that records it."""
    monkeypatch.setenv("AM_KEY", AM_KEY)  # the replicas' environment is this one's
    alerting = ALERTING.replace("    storm: {max_pages: 3, per: 1h}\n", "")
    assert alerting != ALERTING
    config = replica_config(CROWD, confirm_over=50) + alerting
    running = await start_replica_rig(tmp_path, postgres_backend.target, config, latency=0.05)
    try:
        yield running
    finally:
        await running.close()


async def test_replicas_racing_and_a_refused_batch_start_one_page(rig: ReplicaRig) -> None:
    one, two = await rig.start(2)
    for statement in POSTGRES_BOOM:
        await rig.fetch(statement)
    boom = am_group(key="boom")
    refused = await asyncio.gather(*(deliver((one if i % 2 else two).url, boom) for i in range(6)))
    assert refused == [503] * 6
    assert await rig.fetch("SELECT group_id FROM alert_groups") == []
    assert await rig.fetch("SELECT page_id FROM pages") == []

    await rig.fetch("DROP TRIGGER boom ON alert_groups")  # the source sends them all again
    again = await asyncio.gather(*(deliver((one if i % 2 else two).url, boom) for i in range(20)))
    assert again == [202] * 20
    pages = await rig.fetch("SELECT page_id FROM pages")
    assert len(pages) == 1  # started with its group, before the first 202
    groups = await rig.fetch("SELECT count, page_id, state FROM alert_groups")
    assert [(g["count"], g["page_id"], g["state"]) for g in groups] == [
        (20, pages[0]["page_id"], "firing")
    ]
    await rig.when(
        "SELECT 1 FROM page_sends", lambda rows: len(rows) == 1, what="step 1's send recorded"
    )
    await asyncio.sleep(0.5)  # room for a second SMS, were one to go
    assert rig.requested() == {"254712345678": 1}
