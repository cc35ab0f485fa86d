"""``defaults.keep_records`` on both stores: old finished records go, in bounded batches; recent
ones and anything in flight stay; one replica purges at a time; ``history`` says how far back
the record reaches. The store's clock is the test's: records are made "100 days ago" by moving it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot import metrics
from bot.cli.history import run_history
from bot.retention import PURGE_LEASE, Purger
from bot.store import RecipientStatus, RequestState, Store
from bot.store.pages_base import NewPage, PageSend
from bot.store.timers_base import PageTimer
from config.schema import DefaultsConfig
from tests.bot.bridge_kit import ALICE, CONFIG, FAST, start_bridge
from tests.bot.slack_steps import slash
from tests.bot.store_backends import Backend, PostgresBackend
from tests.bot.store_fixtures import Clock, new_request, recipients, sent
from tests.clocks import HeldSleep, wait_until

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
KEEP = timedelta(days=90)


async def finished(
    store: Store, request_id: str, count: int = 2, parent_request_id: str | None = None
) -> None:
    """A send that went out, got a receipt each and was reported to Slack."""
    people = recipients(request_id, count)
    await store.create_request(
        new_request(request_id, parent_request_id=parent_request_id), people, None
    )
    await store.attempt_started(request_id, people, 1)
    await store.outcomes_recorded(
        request_id, [sent(r, f"{request_id}-m{i}") for i, r in enumerate(people)]
    )
    for i in range(count):
        await store.apply_status(
            "tnt",
            status=RecipientStatus.DELIVERED,
            event_key=f"{request_id}-e{i}",
            provider_message_id=f"{request_id}-m{i}",
        )
    await store.set_state(request_id, RequestState.DONE)
    await store.mark_reported([request_id])


async def page(store: Store, page_id: str, request_id: str, at: datetime, ended: bool) -> None:
    await store.create_page(NewPage(page_id, "db", "DB down", "U0SRE", "C0INCIDENTS", at))
    await store.add_page_send(
        PageSend(page_id, 0, 0, "alice", 0, "oncall-sms", request_id, f"{request_id}-0", at)
    )
    await store.add_page_event(page_id, "paged:0:0", at, "paged alice")
    if ended:
        assert await store.acknowledge_page(page_id, "U0SRE", at)


async def request_ids(store: Store) -> set[str]:
    return {r.request_id for r in await store.recent_requests(None, limit=1000)}


async def rows(backend: Backend, table: str) -> int:
    return int(await backend.scalar(f"SELECT COUNT(*) FROM {table}"))


async def test_old_finished_records_go_and_recent_or_unfinished_ones_stay(
    backend: Backend,
) -> None:
    clock = Clock(NOW - timedelta(days=100))
    async with backend.store(clock=clock) as store:
        await finished(store, "ROLD00001")  # old, finished, reported: goes
        await finished(store, "RPAGED001")  # old, but an active page sent it: stays
        await finished(store, "RPARENT01")  # old, but a kept Retry names it: stays
        people = recipients("RFLIGHT01", 2)  # old, an attempt still in flight: stays
        await store.create_request(new_request("RFLIGHT01"), people, None)
        await store.attempt_started("RFLIGHT01", people, 1)
        await store.create_request(new_request("RUNREP001"), recipients("RUNREP001", 1), None)
        await store.set_state("RUNREP001", RequestState.DONE)  # done but never reported: stays
        await store.apply_status(  # a receipt for no send, parked long ago: goes
            "tnt", status=RecipientStatus.SENT, event_key="lost", provider_message_id="nobody"
        )
        await page(store, "PENDED001", "ROLD00001", clock.now, ended=True)  # goes
        # a contact rule the page never sent (it ended first): goes with the page
        await store.add_page_timers(
            [PageTimer("PENDED001", 0, 0, "alice", 1, "oncall-sms", clock.now)]
        )
        await page(store, "PACTIVE01", "RPAGED001", clock.now, ended=False)  # stays
        clock.advance(days=95)
        await finished(store, "RNEW00001")  # 5 days old: stays
        await finished(store, "RRETRY001", parent_request_id="RPARENT01")
        await page(store, "PNEW00001", "RNEW00001", clock.now, ended=True)
        clock.now = NOW
        before = metrics.REGISTRY.get_sample_value(
            "bridge_records_purged_total", {"table": "recipients"}
        )

        run = await Purger(store, KEEP, clock=clock, owner="replica-a").run_once()

        assert not run.skipped
        assert await request_ids(store) == {
            "RPAGED001",
            "RPARENT01",
            "RFLIGHT01",
            "RUNREP001",
            "RNEW00001",
            "RRETRY001",
        }
        assert await store.recipients("ROLD00001") == []
        assert [r.status for r in await store.recipients("RFLIGHT01")] == [
            RecipientStatus.IN_FLIGHT
        ] * 2
        assert await store.find_recipient("tnt", "ROLD00001-m0") is None
        assert await store.get_page("PENDED001") is None
        assert await store.page_sends("PENDED001") == []
        assert await store.page_timers("PENDED001") == []
        assert await store.get_page("PACTIVE01") is not None
        assert await store.page_events("PNEW00001") != []
        assert run.deleted == {
            "receipts": 3,  # ROLD00001's two, and the parked one
            "attempts": 2,
            "recipients": 2,
            "page_events": 1,
            "page_sends": 1,
            "page_timers": 1,
            "pages": 1,
            "requests": 1,
            "alert_groups": 0,  # none resolved here (tests/bot/test_store_alerts.py)
        }
        after = metrics.REGISTRY.get_sample_value(
            "bridge_records_purged_total", {"table": "recipients"}
        )
        assert (after or 0) - (before or 0) == 2
        assert (await Purger(store, KEEP, clock=clock, owner="replica-a").run_once()).total == 0
    assert await rows(backend, "receipts") == 2 * 4  # RPAGED, RPARENT, RNEW, RRETRY


async def test_every_statement_deletes_at_most_one_batch(backend: Backend) -> None:
    clock = Clock(NOW - timedelta(days=200))
    async with backend.store(clock=clock) as store:
        for i in range(5):
            await finished(store, f"RBIG0000{i}", count=7)
        clock.now = NOW
        steps: list[dict[str, int]] = []
        purge_step = store.purge_step

        async def recorded(cutoff: datetime, batch: int) -> dict[str, int]:
            step = await purge_step(cutoff, batch)
            steps.append(step)
            return step

        store.purge_step = recorded  # type: ignore[method-assign]
        run = await Purger(store, KEEP, clock=clock, owner="r", batch=4).run_once()
        assert all(count <= 4 for step in steps for count in step.values())
        assert run.passes == len(steps) > 5  # 35 recipients four at a time
        assert run.deleted["recipients"] == 35
        assert run.deleted["requests"] == 5
        assert await request_ids(store) == set()
        assert steps[-1] == dict.fromkeys(steps[-1], 0)


async def test_the_running_bridge_purges_every_interval(backend: Backend) -> None:
    clock = Clock(NOW - timedelta(days=100))
    async with backend.store(clock=clock) as store:
        await finished(store, "ROLD00001")
        clock.now = NOW
        sleep = HeldSleep()
        purger = Purger(store, KEEP, clock=clock, owner="r", interval=3600, sleep=sleep)
        purger.start()
        try:
            await wait_until(lambda: sleep.asked, what="the first purge")
            assert await request_ids(store) == set()
            assert sleep.asked == [3600]
        finally:
            await purger.stop()


async def test_history_says_how_far_back_the_record_reaches(backend: Backend) -> None:
    clock = Clock(NOW - timedelta(days=30))
    async with backend.store(clock=clock) as store:
        args = argparse.Namespace(request_id=None, user=None, limit=20)
        out = io.StringIO()
        await run_history(args, store, out, keep=KEEP)
        assert out.getvalue().splitlines()[0] == (
            "The send record: empty; finished sends and ended pages older than 90d are removed "
            "(defaults.keep_records)."
        )
        await finished(store, "ROLD00001")
        clock.advance(days=29)
        await store.create_page(NewPage("P1", "db", "DB down", "U0SRE", None, clock.now))
        out = io.StringIO()
        await run_history(args, store, out)
        assert out.getvalue().splitlines()[0] == (
            "The send record: since 2026-10-25 03:00 UTC; kept forever "
            "(defaults.keep_records is not set)."
        )
        assert (await store.oldest_record()).page == clock.now


# --- one replica at a time (PostgreSQL: SQLite has one process on its file) ------------------


async def test_only_one_replica_purges_at_a_time(postgres_backend: PostgresBackend) -> None:
    clock = Clock(NOW - timedelta(days=100))
    async with (
        postgres_backend.store(clock=clock) as one,
        postgres_backend.store(clock=clock) as two,
    ):
        await finished(one, "ROLD00001")
        clock.now = NOW
        book = one.lease_book()
        assert book is not None
        held = await book.take(PURGE_LEASE, "replica-a", timedelta(minutes=5))
        assert held is not None  # replica a is mid-run
        other = Purger(two, KEEP, clock=clock, owner="replica-b")
        assert (await other.run_once()).skipped
        assert await request_ids(two) == {"ROLD00001"}
        # The watcher that takes over lapsed sends never takes the purge for a send.
        clock.advance(minutes=6)
        assert await book.claim_stale("replica-c", timedelta(seconds=30), timedelta(0)) == []
        # Replica a died mid-run: once its lease lapsed, b takes the purge over.
        run = await other.run_once()
        assert not run.skipped
        assert await request_ids(two) == set()
        assert not await book.holds(held)
        assert await rows(postgres_backend, "send_leases") == 0  # released after the run


async def test_a_replica_is_refused_at_every_pass_of_anothers_run(
    postgres_backend: PostgresBackend,
) -> None:
    clock = Clock(NOW - timedelta(days=100))
    async with (
        postgres_backend.store(clock=clock) as one,
        postgres_backend.store(clock=clock) as two,
    ):
        for i in range(3):
            await finished(one, f"ROLD0000{i}", count=3)
        clock.now = NOW
        holders: list[Sequence[str]] = []
        purge_step = one.purge_step

        async def step_seeing_the_lease(cutoff: datetime, batch: int) -> dict[str, int]:
            owners = await postgres_backend.fetch(
                f"SELECT owner FROM send_leases WHERE group_id = '{PURGE_LEASE}'"
            )
            holders.append([owner for (owner,) in owners])
            # While a holds the lease, b's attempt is refused.
            assert (await Purger(two, KEEP, clock=clock, owner="replica-b").run_once()).skipped
            return await purge_step(cutoff, batch)

        one.purge_step = step_seeing_the_lease  # type: ignore[method-assign]
        run = await Purger(one, KEEP, clock=clock, owner="replica-a", batch=2).run_once()
        assert run.deleted["requests"] == 3
        assert len(holders) > 3
        assert all(h == ["replica-a"] for h in holders)


@pytest.mark.parametrize(
    ("written", "said"),
    [("12h", "keep_records must be at least 1d"), ("0d", "a duration above zero")],
)
def test_keep_records_under_a_day_is_refused(written: str, said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        DefaultsConfig(keep_records=written)


def test_keep_records_is_off_unless_set() -> None:
    assert DefaultsConfig().keep_records is None
    assert DefaultsConfig(keep_records="90d").keep_records == KEEP


async def test_a_running_bridge_with_keep_records_removes_an_old_send(tmp_path: Path) -> None:
    """Through the real runtime: ``/send`` from Slack, then the bridge's clock moves past
    ``keep_records`` and its own purge loop removes the finished send (and only with it set)."""
    clock = Clock(NOW - timedelta(days=3))
    options = replace(FAST, clock=clock, purge_interval=0.01)
    text = CONFIG.replace("  max_recipients: 50\n", "  max_recipients: 50\n  keep_records: 2d\n")
    assert "keep_records: 2d" in text
    bridge = await start_bridge(tmp_path, config_text=text, options=options)
    try:
        reply = await slash(bridge, "oncall-sms Disk full")
        assert reply.text.startswith("Queued R"), reply.text
        await bridge.idle()
        store = bridge.runtime.store
        (record,) = await store.recent_requests(ALICE, 1)
        assert await store.get_request(record.request_id) is not None  # 0 days old: kept
        clock.now = NOW  # now it is 3 days old

        async def gone() -> bool:
            return await store.get_request(record.request_id) is None

        for _ in range(500):
            if await gone():
                break
            await asyncio.sleep(0.01)
        assert await gone()
        assert await store.recipients(record.request_id) == []
    finally:
        await bridge.world.close()
