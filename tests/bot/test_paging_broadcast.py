"""The on-call broadcast shortcut with a preset that has ``escalation:``: it pages through that
policy (the rendered template is the page text; root message and timeline in ``announce_in``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.slack import ids
from tests.bot.bridge_kit import CONFIG, INCIDENTS
from tests.bot.paging_kit import Clock, sms_texts, start_paging
from tests.bot.test_paging_e2e import ALICE_PHONE, BOB_PHONE, page_id_in
from tests.bot.test_slack_shortcuts import open_view
from tests.clocks import wait_until

PAGER = (
    CONFIG[: CONFIG.index("broadcasts:")]
    + """broadcasts:
  pager:
    title: Page the DB on-call
    escalation: db-outage
    template: "[{severity}] {text} (from {sender})"
    allowed_senders: [sre]
    announce_in: C0INCIDENT
"""
)


async def test_a_paging_preset_pages_through_its_escalation(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock, config=PAGER)
    try:
        await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
        view = await open_view(bridge)
        shown = repr(view["blocks"])
        assert "Pages through escalation `db-outage`" in shown
        assert f"{ids.CHANNELS_BLOCK}.pager" not in shown  # the steps choose the channels
        too_long = {f"{ids.SEVERITY_BLOCK}.pager": "SEV1", ids.TEXT_BLOCK: "x" * 1200}
        status, answer = await bridge.user.submit(view["id"], too_long)
        assert status == 200
        assert "page id and how to acknowledge" in answer["errors"][ids.TEXT_BLOCK]
        values = {f"{ids.SEVERITY_BLOCK}.pager": "SEV1", ids.TEXT_BLOCK: "Primary DB is down"}
        status, answer = await bridge.user.submit(view["id"], values)
        assert (status, answer) == (200, None)
        await wait_until(lambda: sms_texts(bridge), what="step 1")
        [delivery] = bridge.emulators.talkntalk.deliveries
        assert delivery.recipient == ALICE_PHONE
        text = str(delivery.payload["message"])
        assert text.startswith("[SEV1] Primary DB is down (from ")
        page_id = page_id_in(text)
        root = next(m for m in bridge.slack.messages[INCIDENTS] if page_id in m.text)
        assert not root.is_reply  # the page's root message is in announce_in
        clock.advance(timedelta(minutes=5))  # nobody acknowledged: the policy escalates
        await bridge.runtime.paging.tick()
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2")
        assert sms_texts(bridge)[1][0] == BOB_PHONE
    finally:
        await bridge.world.close()
