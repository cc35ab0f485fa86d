"""A page flood is refused: past ``defaults.max_active_pages_per_sender`` or
``..._per_escalation`` active pages, ``/send page`` and a paging preset start nothing, and the
refusal says how many are active, the limit, and what to do. Acknowledging frees a place.

Why: one allowed sender started 300 pages (300 SMS) in 3 s. Starts racing for the last place
are settled in the store (tests/bot/store/test_store_page_caps.py); here, through Slack and
the service.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.policy import Rejection
from bot.slack import ids
from tests.bot.bridge_kit import ALICE, BOB, Bridge
from tests.bot.cli.test_cli_paging import cli
from tests.bot.paging.test_paging_broadcast import PAGER
from tests.bot.paging.test_paging_e2e import page_id_in
from tests.bot.paging_kit import Clock, sms_texts, start_paging
from tests.bot.slack.test_slack_shortcuts import open_view
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

CAPPED = PAGER.replace(
    "defaults:\n",
    "defaults:\n  max_active_pages_per_sender: 2\n  max_active_pages_per_escalation: 3\n",
    1,
)


async def capped_bridge(tmp_path: Path) -> Bridge:
    return await start_paging(tmp_path, Clock(), config=CAPPED)


async def test_a_sender_at_the_cap_is_told_how_many_the_limit_and_what_to_do(
    tmp_path: Path,
) -> None:
    bridge = await capped_bridge(tmp_path)
    try:
        first = page_id_in((await slash(bridge, "page db-outage DB down")).text)
        second = page_id_in((await slash(bridge, "page db-outage DB still down")).text)
        refused = await slash(bridge, "page db-outage DB down again")
        oldest = ", ".join(sorted([first, second]))  # the test's clock stands still: by id
        assert refused.text == (
            f"Page not started: you have 2 active pages (oldest: {oldest}); the limit "
            "is 2. Acknowledge the ones that are handled (/send ack &lt;page id&gt;) and page "
            "again, or ask a bridge admin to raise defaults.max_active_pages_per_sender."
        )
        await bridge.idle()
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="two pages' SMS")
        assert len(await bridge.runtime.store.active_pages()) == 2
        # Acknowledging one frees its place.
        await slash(bridge, f"ack {first}")
        third = await slash(bridge, "page db-outage DB down again")
        assert "Paging through `db-outage`" in third.text
    finally:
        await bridge.world.close()


async def test_an_escalation_at_the_cap_refuses_every_sender(tmp_path: Path) -> None:
    bridge = await capped_bridge(tmp_path)
    try:
        await slash(bridge, "page db-outage DB down")
        await slash(bridge, "page db-outage DB still down")
        await slash(bridge, "page db-outage Replica down too", user=BOB)
        refused = await slash(bridge, "page db-outage And the cache", user=BOB)
        assert refused.text.startswith("Page not started: escalation `db-outage` has 3 active")
        assert "the limit is 3" in refused.text
        assert "defaults.max_active_pages_per_escalation" in refused.text
        assert len(await bridge.runtime.store.active_pages()) == 3
    finally:
        await bridge.world.close()


async def test_a_paging_preset_at_the_cap_says_why_in_the_modal(tmp_path: Path) -> None:
    bridge = await capped_bridge(tmp_path)
    try:
        await slash(bridge, "page db-outage DB down")
        await slash(bridge, "page db-outage DB still down")
        await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
        view = await open_view(bridge)
        values = {f"{ids.SEVERITY_BLOCK}.pager": "SEV1", ids.TEXT_BLOCK: "Primary DB is down"}
        status, answer = await bridge.user.submit(view["id"], values)
        assert status == 200
        inline = answer["errors"][ids.TEXT_BLOCK]
        assert inline.startswith("Page not started: you have 2 active pages")
        assert "defaults.max_active_pages_per_sender" in inline
        assert len(await bridge.runtime.store.active_pages()) == 2
    finally:
        await bridge.world.close()


async def test_starts_racing_at_the_cap_start_one(tmp_path: Path) -> None:
    bridge = await capped_bridge(tmp_path)
    try:
        paging = bridge.runtime.paging
        await paging.start("db-outage", "DB down", ALICE, None)
        results = await asyncio.gather(
            *(paging.start("db-outage", f"DB down {n}", ALICE, None) for n in range(6)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, Rejection)]
        assert len(refused) == 5
        assert all("you have 2 active pages" in r.plain for r in refused)
        assert len(await bridge.runtime.store.active_pages()) == 2
    finally:
        await bridge.world.close()


async def test_the_terminal_counts_toward_the_escalations_cap(tmp_path: Path) -> None:
    # The terminal pages as nobody in Slack (no per-sender cap), but its pages fill the
    # escalation's places like any other, and past them it refuses with exit 2.
    bridge = await start_paging(
        tmp_path, Clock(), config=CAPPED.replace("escalation: 3", "escalation: 2")
    )
    db = tmp_path / "pages.db"
    try:
        runs = [
            await cli(bridge, db, "page", "db-outage", "Disk", "full", str(n)) for n in range(3)
        ]
    finally:
        await bridge.world.close()
    assert [r.code for r in runs[:2]] == [0, 0], [r.err for r in runs]
    assert runs[2].code == 2
    assert "Page not started: escalation `db-outage` has 2 active pages" in runs[2].err
    assert "defaults.max_active_pages_per_escalation" in runs[2].err
