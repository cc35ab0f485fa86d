"""The on-call broadcast shortcut with a preset that has ``escalation:``: it pages through that
policy (the rendered template is the page text; root message and timeline in ``announce_in``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bridge_sandbox.slack import payloads

from bot.paging.service import PagingService
from bot.slack import ids
from tests.bot.bridge_kit import CONFIG, INCIDENTS
from tests.bot.paging.test_paging_e2e import ALICE_PHONE, BOB_PHONE, page_id_in
from tests.bot.paging_kit import Clock, sms_texts, start_paging
from tests.bot.slack.test_slack_shortcuts import open_view
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


async def test_one_view_submitted_twice_starts_one_page(tmp_path: Path) -> None:
    # Slack may deliver a submission twice (or two replicas each get one): two signed requests
    # with the same view start one page, and each person is paged once.
    clock = Clock()
    bridge = await start_paging(tmp_path, clock, config=PAGER)
    try:
        await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
        view = await open_view(bridge)
        values = {f"{ids.SEVERITY_BLOCK}.pager": "SEV1", ids.TEXT_BLOCK: "Primary DB is down"}
        body = payloads.view_submission(bridge.slack, view["id"], values, user=bridge.user.user)
        answers = await asyncio.gather(bridge.user.send(body), bridge.user.send(body))
        assert list(answers) == [(200, None), (200, None)]
        await wait_until(lambda: sms_texts(bridge), what="step 1")
        await bridge.idle()
        pages = await bridge.runtime.store.active_pages()
        assert len(pages) == 1
        assert pages[0].idempotency_key == f"view:{view['id']}"
        roots = [m for m in bridge.slack.messages[INCIDENTS] if pages[0].page_id in m.text]
        assert len([m for m in roots if not m.is_reply]) == 1
        assert [d.recipient for d in bridge.emulators.talkntalk.deliveries] == [ALICE_PHONE]
    finally:
        await bridge.world.close()


async def test_two_replicas_starting_one_key_make_one_page(tmp_path: Path) -> None:
    # Nothing in memory is shared between replicas: only the store can make a start once.
    clock = Clock()
    bridge = await start_paging(tmp_path, clock, config=PAGER)
    try:
        one = bridge.runtime.paging
        other = PagingService(
            one.settings, one.store, one.service, bridge.runtime.client, clock=clock
        )
        started = await asyncio.gather(
            *(
                paging.start("db-outage", "DB down", "U0ALICE001", INCIDENTS, idempotency_key=key)
                for paging in (one, other)
                for key in ("view:V1", "view:V1")
            )
        )
        assert len({p.page_id for p in started}) == 1
        await wait_until(lambda: sms_texts(bridge), what="step 1")
        await one.wait_idle()
        await other.wait_idle()
        assert len(await one.store.active_pages()) == 1
        assert [d.recipient for d in bridge.emulators.talkntalk.deliveries] == [ALICE_PHONE]
    finally:
        await bridge.world.close()
