"""``defaults.keep_records`` on both stores for what alerts and canaries leave behind: ended
silences, resolved alert groups and judged canary runs older than the cutoff go, in the same
bounded, leased passes as sends and pages; a silence in force or named by a kept group, a group
still firing or listed on an active (storm) page, and each canary's unjudged, latest judged and
latest passed runs stay (the health and last-good gauges read them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.retention import Purger
from bot.store import Store
from bot.store.pages_base import NewPage
from tests.bot.store.test_store_alerts import group, open_group, resolve_group
from tests.bot.store.test_store_pages import T0
from tests.bot.store.test_store_silences import silence
from tests.bot.store_backends import Backend
from tests.bot.store_fixtures import Clock

KEEP = timedelta(days=90)
NOW = T0 + timedelta(days=200)
OLD = T0  # 200 days before NOW
RECENT = NOW - timedelta(days=5)


async def silences_left(backend: Backend) -> set[str]:
    return {row[0] for row in await backend.fetch("SELECT silence_id FROM alert_silences")}


async def runs_left(backend: Backend) -> set[tuple[str, int]]:
    """(canary, day of its period counted from T0) of the runs still recorded."""
    rows = await backend.fetch("SELECT canary, period FROM canary_runs")
    return {(canary, (_moment(period) - T0).days) for canary, period in rows}


def _moment(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def test_old_ended_silences_go_and_those_in_force_or_named_stay(backend: Backend) -> None:
    clock = Clock(NOW)
    async with backend.store(clock=clock) as store:
        # Expired 200 days ago, named by no group: goes.
        await store.create_silence(silence("SEXPIRED"))
        # Ended early by hand long ago, though written to run 200 days: goes (it ended then).
        await store.create_silence(replace(silence("SENDED"), ends_at=NOW + timedelta(days=1)))
        assert await store.end_silence("SENDED", "U0BOB00002", OLD + timedelta(minutes=5))
        # Made long ago and still in force (a year-long silence): stays.
        await store.create_silence(replace(silence("SLONG"), ends_at=NOW + timedelta(days=30)))
        # Expired 5 days ago: recent, stays.
        await store.create_silence(
            replace(silence("SRECENT"), starts_at=RECENT, ends_at=RECENT + timedelta(hours=2))
        )
        # Expired long ago, but a group born under it still fires: it stays (its message says
        # who silenced it).
        await store.create_silence(silence("SNAMED"))
        await open_group(store, replace(group("GFIRING", "firing"), silence_id="SNAMED"))
        # Expired long ago; its group resolved long ago: the group goes, then the silence.
        await store.create_silence(silence("SWITHOLD"))
        await open_group(store, replace(group("GOLD", "old"), silence_id="SWITHOLD"))
        await resolve_group(store, "prod-am", "hash-old", OLD + timedelta(hours=3), None)

        run = await Purger(store, KEEP, clock=clock, owner="replica-a").run_once()

        assert run.deleted["alert_silences"] == 3
        assert run.deleted["alert_groups"] == 1
        assert await silences_left(backend) == {"SLONG", "SRECENT", "SNAMED"}
        assert await store.alert_group("GFIRING") is not None
        assert await store.alert_group("GOLD") is None
        assert [s.silence_id for s in await store.active_silences("prod-am", NOW)] == ["SLONG"]
        assert (await Purger(store, KEEP, clock=clock, owner="replica-a").run_once()).total == 0


async def test_a_resolved_group_stays_while_the_storm_page_listing_it_is_active(
    store: Store,
) -> None:
    await store.create_page(NewPage("PSTORM001", "db-outage", "Storm", None, "C0OPS0001", OLD))
    await store.create_page(NewPage("PDONE0001", "db-outage", "DB", None, "C0OPS0001", OLD))
    assert await store.end_page_at_source("PDONE0001", "source:prod-am", OLD)
    for group_id, key, page_id in (("GSTORM", "a", "PSTORM001"), ("GDONE", "b", "PDONE0001")):
        await open_group(store, group(group_id, key))
        assert await store.set_alert_group_page(group_id, page_id)
        await resolve_group(store, "prod-am", f"hash-{key}", OLD + timedelta(hours=1), None)

    step = await store.purge_step(NOW - KEEP, 10)

    assert step["alert_groups"] == 1
    assert await store.alert_group("GSTORM") is not None  # its storm page still runs
    assert await store.alert_group("GDONE") is None
    assert await store.get_page("PSTORM001") is not None


async def judged(store: Store, canary: str, day: int, ok: bool) -> None:
    period = OLD + timedelta(days=day)
    assert await store.claim_canary(canary, period, period)
    assert await store.judge_canary(canary, period, ok, None if ok else "failed", period)


async def test_old_canary_runs_go_but_the_latest_judged_and_passed_and_unjudged_stay(
    backend: Backend,
) -> None:
    clock = Clock(NOW)
    async with backend.store(clock=clock) as store:
        # oncall-sms: passed on days 0-2, failed on days 3-4 (all old), passed on day 198.
        for day, ok in ((0, True), (1, True), (2, True), (3, False), (4, False), (198, True)):
            await judged(store, "oncall-sms", day, ok)
        # oncall-wa: passed on day 0, failed on day 1 and since (its last pass is old), and a
        # run on day 2 never judged (claimed, its replica died): the gauges need days 0 and 1.
        await judged(store, "oncall-wa", 0, True)
        await judged(store, "oncall-wa", 1, False)
        assert await store.claim_canary("oncall-wa", OLD + timedelta(days=2), OLD)
        # A canary removed from the config long ago: its last run stays (one row).
        await judged(store, "gone", 0, False)
        await judged(store, "gone", 1, False)
        before = await store.last_canaries()

        run = await Purger(store, KEEP, clock=clock, owner="replica-a", batch=2).run_once()

        assert run.deleted["canary_runs"] == 6
        assert await runs_left(backend) == {
            ("oncall-sms", 198),
            ("oncall-wa", 0),
            ("oncall-wa", 1),
            ("oncall-wa", 2),
            ("gone", 1),
        }
        assert await store.last_canaries() == before  # what the gauges read is unchanged
        # A kept period is never claimed again (its test is not sent twice).
        assert not await store.claim_canary("oncall-sms", OLD + timedelta(days=198), NOW)
        assert [r.canary for r in await store.unjudged_canaries()] == ["oncall-wa"]
