"""Who may page through a broadcast preset with ``escalation:`` (issue 15, item 3): the preset's
senders *and* the escalation's, so a preset never widens who may page; and whoever started a
page may acknowledge it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

from bot.slack import ids
from config import Settings
from tests.bot.bridge_kit import CAROL, INCIDENTS
from tests.bot.paging.test_paging_broadcast import PAGER
from tests.bot.paging_kit import Clock, sms_texts, start_paging
from tests.bot.slack.test_slack_shortcuts import open_view
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

VALUES = {f"{ids.SEVERITY_BLOCK}.pager": "SEV1", ids.TEXT_BLOCK: "Primary DB is down"}


def carol_may_use_the_pager(settings: Settings) -> Settings:
    """A preset wider than its escalation, as an older bridge accepted it (the loader now
    refuses it): the check when paging must hold without the loader's."""
    pager = settings.broadcasts["pager"]
    wider = dataclasses.replace(pager, allowed_users=pager.allowed_users | {CAROL})
    broadcasts = MappingProxyType({**settings.broadcasts, "pager": wider})
    return dataclasses.replace(settings, broadcasts=broadcasts)


async def test_a_preset_does_not_let_someone_page_whom_the_escalation_refuses(
    tmp_path: Path,
) -> None:
    bridge = await start_paging(tmp_path, Clock(), config=PAGER, adjust=carol_may_use_the_pager)
    try:
        direct = await slash(bridge, "page db-outage Primary DB is down", user=CAROL)
        assert "You may not page through `db-outage`" in direct.text
        carol = bridge.as_user(CAROL)
        await carol.shortcut(ids.BROADCAST_SHORTCUT)
        view = await open_view(bridge)
        status, answer = await carol.submit(view["id"], VALUES)
        assert status == 200
        assert answer["response_action"] == "errors"
        assert answer["errors"][ids.TEXT_BLOCK] == (
            "You may not page through `db-outage`, which the Page the DB on-call broadcast "
            "pages through. Ask a bridge admin to add you (or one of your user groups) to "
            "escalations.db-outage.allowed_senders."
        )
        await bridge.idle()
        assert await bridge.runtime.store.active_pages() == []
        assert sms_texts(bridge) == []
    finally:
        await bridge.world.close()


async def test_whoever_started_a_page_may_acknowledge_it(tmp_path: Path) -> None:
    # Carol is neither paged nor a sender of db-outage now (she may have been when she started
    # it, or started it from the terminal): her own page is still hers to acknowledge.
    bridge = await start_paging(tmp_path, Clock(), config=PAGER)
    try:
        page = await bridge.runtime.paging.start("db-outage", "DB down", CAROL, INCIDENTS)
        await wait_until(lambda: sms_texts(bridge), what="step 1")
        answer = await slash(bridge, f"ack {page.page_id}", user=CAROL)
        assert answer.text == f"You acknowledged page *{page.page_id}*: no later step will run."
        done = await bridge.runtime.store.get_page(page.page_id)
        assert done is not None
        assert (done.state, done.acknowledged_by) == ("acknowledged", f"slack:{CAROL}")
    finally:
        await bridge.world.close()
