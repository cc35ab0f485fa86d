"""A process that dies inside a page's move (step 1's SMS out, the move not yet recorded as done)
delays nothing: the restarted bridge re-runs the move once its short claim lapses, sends nobody
anything twice, and step 2 is still due ``wait`` after step 1's SMS.

Why: the claim on a move used to be a fixed 30 s lease, and the re-run timed the next step from
itself, so a kill -9 in that window (one run in 14, in the black-box runs) put step 2 some 30 s
late. The clock here is the test's: nothing waits for real time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.paging.engine import LEASE, Move
from bot.paging.service import new_page_id
from bot.store.pages_base import NewPage, PageRecord
from tests.bot.bridge_kit import ALICE, CONFIG, FAST, Bridge, start_bridge
from tests.bot.crash_kit import restart_in_process
from tests.bot.paging_kit import PAGING, START, Clock, sms_texts
from tests.clocks import wait_until

ALICE_PHONE = "254712345678"  # on call on primary at START
BOB_PHONE = "254798765432"
STEP_WAIT = timedelta(minutes=5)  # db-outage's step 1
RESTARTED = timedelta(seconds=6)  # the restarted bridge's first look, as in the black-box runs


async def paging_bridge(tmp_path: Path, clock: Clock) -> Bridge:
    """The scheduler loop ticks once at start and then sleeps: the test runs every tick."""
    options = replace(FAST, clock=clock, page_tick=3600)
    return await start_bridge(tmp_path, config_text=CONFIG + PAGING, options=options)


async def test_a_move_cut_off_by_a_crash_is_rerun_once_and_step_2_keeps_its_time(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await paging_bridge(tmp_path, clock)
    try:
        store = bridge.runtime.store
        page = await store.create_page(
            NewPage(new_page_id(), "db-outage", "DB down", ALICE, None, clock())
        )
        # The first process: claims step 1 as its engine does, pages alice, and dies before the
        # move is recorded as done (nothing renews its claim any more).
        claimed = await store.claim_page(page.page_id, page.version, clock(), clock() + LEASE)
        assert claimed is not None
        engine = bridge.runtime.paging.engine
        await engine.run_step(claimed, bridge.settings.escalations["db-outage"], Move(0, 0))
        await wait_until(lambda: sms_texts(bridge), what="step 1's SMS")
        bridge.world = await restart_in_process(
            bridge.world, tmp_path, replace(FAST, clock=clock, page_tick=3600)
        )
        paging = bridge.runtime.paging

        clock.advance(RESTARTED)
        assert await paging.tick() == 1  # the cut-off move runs again
        again = await store_page(bridge, page.page_id)
        assert (again.round, again.step) == (0, 0)
        assert again.next_at == START + STEP_WAIT  # from step 1's SMS, not from the re-run
        await bridge.idle()
        assert [to for to, _ in sms_texts(bridge)] == [ALICE_PHONE]  # not paged twice

        clock.now = START + STEP_WAIT
        assert await paging.tick() == 1
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2's SMS")
        assert [to for to, _ in sms_texts(bridge)] == [ALICE_PHONE, BOB_PHONE]
    finally:
        await bridge.world.close()


async def store_page(bridge: Bridge, page_id: str) -> PageRecord:
    page = await bridge.runtime.store.get_page(page_id)
    assert page is not None
    return page
