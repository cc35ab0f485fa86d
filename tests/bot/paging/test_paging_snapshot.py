"""A page runs the steps it started with: a bridge restarted with a changed escalation (or a
replica with a newer config) does not shift a running page's steps. A page recorded before
pages kept their own copy (no copy) runs from the config, as before.

Time is the test's clock; the scheduler's loop sleeps and the test runs each tick.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

from bot.paging.service import new_page_id
from bot.paging.snapshot import from_json, to_json
from bot.store.pages_base import NewPage
from config import Settings
from config.settings import Step, Target
from tests.bot.bridge_kit import ALICE, CONFIG, FAST, Bridge, start_bridge
from tests.bot.crash_kit import restart_in_process
from tests.bot.paging_kit import PAGING, Clock, sms_texts
from tests.clocks import wait_until

ALICE_PHONE = "254712345678"  # on call on primary at START
BOB_PHONE = "254798765432"
CAROL_PHONE = "254700000003"


def changed(settings: Settings) -> Settings:
    """db-outage edited: step 1 waits 1m (not 5m), step 2 pages carol (not bob), no repeat."""
    old = settings.escalations["db-outage"]
    steps = (
        replace(old.steps[0], wait=timedelta(minutes=1)),
        Step((Target("person", "carol"),), ("sms-adhoc",), timedelta(minutes=1)),
    )
    escalations = dict(settings.escalations)
    escalations["db-outage"] = replace(old, steps=steps, repeat=0)
    return replace(settings, escalations=MappingProxyType(escalations))


async def restarted_with(bridge: Bridge, tmp_path: Path, clock: Clock, settings: Settings) -> None:
    bridge.world = await restart_in_process(
        replace(bridge.world, settings=settings),
        tmp_path,
        replace(FAST, clock=clock, page_tick=3600),
    )


async def paging_bridge(tmp_path: Path, clock: Clock) -> Bridge:
    options = replace(FAST, clock=clock, page_tick=3600)
    return await start_bridge(tmp_path, config_text=CONFIG + PAGING, options=options)


async def test_a_running_page_keeps_its_steps_when_the_config_changes(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await paging_bridge(tmp_path, clock)
    try:
        for name, escalation in bridge.settings.escalations.items():  # the copy reads back
            assert from_json(to_json(escalation), escalation, name) == escalation
        page = await bridge.runtime.paging.start("db-outage", "DB down", ALICE, None)
        assert page.escalation_steps is not None
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1's SMS")
        await restarted_with(bridge, tmp_path, clock, changed(bridge.settings))
        paging = bridge.runtime.paging

        clock.advance(timedelta(minutes=1))  # the new config's wait: not this page's
        assert await paging.tick() == 0
        clock.advance(timedelta(minutes=4))  # the 5m it started with
        assert await paging.tick() == 1
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2's SMS")
        assert [to for to, _ in sms_texts(bridge)] == [ALICE_PHONE, BOB_PHONE]  # not carol
        clock.advance(timedelta(minutes=10))
        assert await paging.tick() == 1
        await wait_until(lambda: len(sms_texts(bridge)) == 3, what="step 3's SMS")
        assert sms_texts(bridge)[-1][0] == CAROL_PHONE  # its third step, which the edit removed
        stored = await bridge.runtime.store.get_page(page.page_id)
        assert stored is not None
        assert (stored.state, stored.step) == ("active", 2)
    finally:
        await bridge.world.close()


async def test_a_page_without_a_copy_runs_from_the_config(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await paging_bridge(tmp_path, clock)
    try:
        await restarted_with(bridge, tmp_path, clock, changed(bridge.settings))
        store = bridge.runtime.store
        old = NewPage(new_page_id(), "db-outage", "DB down", ALICE, None, clock())
        page = await store.create_page(old)  # as a page recorded before copies were kept
        assert page.escalation_steps is None
        paging = bridge.runtime.paging
        assert await paging.tick() == 1
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1's SMS")
        clock.advance(timedelta(minutes=1))  # the config's wait now
        assert await paging.tick() == 1
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2's SMS")
        assert [to for to, _ in sms_texts(bridge)] == [ALICE_PHONE, CAROL_PHONE]
    finally:
        await bridge.world.close()
