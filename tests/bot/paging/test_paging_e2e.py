"""Pages end to end: /send page through the real server, SMS to the emulator, the Acknowledge
button and link, escalation and the end, all on a clock the test moves (no test sleeps a wait)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.bot.bridge_kit import ALICE, BOB, CAROL
from tests.bot.paging_kit import PUBLIC, Clock, root_of, sms_texts, start_paging
from tests.bot.receipts.test_receipts import KAL_SECRET, RECEIPTS_CONFIG, TNT_SECRET
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

# On 2026-11-24 the weekly rotation from Mon 2026-11-02 (alice, bob, carol) is back at alice.
# (The TalkNTalk emulator records numbers without the +.)
ALICE_PHONE = "254712345678"
BOB_PHONE = "254798765432"


def page_id_in(text: str) -> str:
    found = re.search(r"P[0-9A-Z]{8}", text)
    assert found is not None, text
    return found.group(0)


async def test_a_page_acknowledged_by_the_button_at_step_1(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    try:
        answer = await slash(bridge, "page db-outage DB primary is down")
        page_id = page_id_in(answer.text)
        await bridge.idle()
        await wait_until(lambda: sms_texts(bridge), what="the first SMS")
        ((to, body),) = sms_texts(bridge)
        assert to == ALICE_PHONE
        assert f"Ack: /send ack {page_id}" in body
        assert f"{PUBLIC}/ack/" in body
        root = root_of(bridge, page_id)
        assert any(b.get("type") == "actions" for b in root.blocks)
        # Alice was paged (and is an allowed sender): she acknowledges by the button.
        status, _ = await bridge.as_user(ALICE).click(root.ts, "ack_page", value=page_id)
        assert status == 200
        await wait_until(
            lambda: "Acknowledged" in str(root_of(bridge, page_id).blocks), what="ack shown"
        )
        clock.advance(timedelta(minutes=30))
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert len(sms_texts(bridge)) == 1  # no later step ran
        second = await slash(bridge, f"ack {page_id}", user=BOB)
        assert "already acknowledged by <@U0ALICE001>" in second.text
    finally:
        await bridge.world.close()


async def test_a_page_escalates_twice_then_is_acknowledged_by_link(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    try:
        page_id = page_id_in((await slash(bridge, "page db-outage Disk full")).text)
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1")
        clock.advance(timedelta(minutes=5))
        await bridge.runtime.paging.tick()
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2")
        assert sms_texts(bridge)[1][0] == BOB_PHONE
        clock.advance(timedelta(minutes=10))
        await bridge.runtime.paging.tick()
        await wait_until(lambda: len(sms_texts(bridge)) == 3, what="step 3")
        link = re.search(r"https://bridge\.example(/ack/[A-Za-z0-9_.\-]+)", sms_texts(bridge)[2][1])
        assert link is not None
        url = bridge.world.bridge.url + link.group(1)
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as shown:
                assert shown.status == 200
                assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
                assert "<form method=post>" in await shown.text()
            page = await bridge.runtime.store.get_page(page_id)
            assert page is not None
            assert page.state == "active"
            async with http.post(url) as posted:
                assert posted.status == 200
                assert "is acknowledged" in await posted.text()
            async with http.post(url) as again:
                assert "already acknowledged by carol" in await again.text()
            async with http.get(bridge.world.bridge.url + "/ack/bogus.token") as bad:
                assert bad.status == 404
        clock.advance(timedelta(hours=1))
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert len(sms_texts(bridge)) == 3
    finally:
        await bridge.world.close()


async def test_a_page_nobody_answers_repeats_then_ends_unanswered(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    try:
        page_id = page_id_in((await slash(bridge, "page db-outage Nobody home")).text)
        for expected in range(1, 7):  # three steps, twice (repeat: 1)

            def sent(n: int = expected) -> bool:
                return len(sms_texts(bridge)) == n

            await wait_until(sent, what=f"send {expected}")
            clock.advance(timedelta(minutes=10))
            await bridge.runtime.paging.tick()
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert page.state == "ended"
        await bridge.runtime.paging.wait_idle()
        await wait_until(
            lambda: "Ended unanswered" in str(root_of(bridge, page_id).blocks), what="the end"
        )
        assert "<@U0ALICE001>" in str(root_of(bridge, page_id).blocks)
        late = await slash(bridge, f"ack {page_id}")
        assert "ended unanswered" in late.text
    finally:
        await bridge.world.close()


async def test_someone_neither_paged_nor_a_sender_may_not_page_or_acknowledge(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    try:
        refused = await slash(bridge, "page db-outage hello", user=CAROL)
        assert "may not page" in refused.text
        page_id = page_id_in((await slash(bridge, "page db-outage Disk full")).text)
        answer = await slash(bridge, f"ack {page_id}", user=CAROL)
        assert answer.text == f"There is no page `{page_id}`. Page ids look like P7K3QX9A2."
    finally:
        await bridge.world.close()


async def test_whatsapp_not_delivered_within_fallback_after_goes_by_sms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TNT_WEBHOOK_SECRET", TNT_SECRET)
    monkeypatch.setenv("KAL_WEBHOOK_SECRET", KAL_SECRET)
    clock = Clock()
    bridge = await start_paging(tmp_path, clock, config=RECEIPTS_CONFIG)
    try:
        await slash(bridge, "page wa-first Queue stuck")
        await wait_until(lambda: bridge.emulators.kaleyra.deliveries, what="the WhatsApp page")
        clock.advance(timedelta(minutes=1))  # within fallback_after: nothing more
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert sms_texts(bridge) == []
        clock.advance(timedelta(minutes=2))  # not delivered within 2m: SMS
        await bridge.runtime.paging.tick()
        await wait_until(lambda: sms_texts(bridge), what="the SMS fallback")
        assert [to for to, _ in sms_texts(bridge)] == [BOB_PHONE]
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert len(sms_texts(bridge)) == 1  # fell back once
    finally:
        await bridge.world.close()


async def test_a_restart_during_a_wait_runs_the_next_step_once(tmp_path: Path) -> None:
    clock = Clock()
    for part in ("a", "b"):
        (tmp_path / part).mkdir()
    first = await start_paging(tmp_path / "a", clock)
    db = tmp_path / "a" / "bridge.db"
    page_id = page_id_in((await slash(first, "page db-outage Restarting")).text)
    await wait_until(lambda: len(sms_texts(first)) == 1, what="step 1")
    await first.world.close()
    second = await start_paging(tmp_path / "b", clock, BRIDGE_DB=str(db))
    try:
        clock.advance(timedelta(minutes=5))
        await asyncio.gather(*(second.runtime.paging.tick() for _ in range(3)))
        await wait_until(lambda: len(sms_texts(second)) == 1, what="step 2 after the restart")
        await second.runtime.paging.tick()
        await second.idle()
        assert [to for to, _ in sms_texts(second)] == [BOB_PHONE]
        page = await second.runtime.store.get_page(page_id)
        assert page is not None
        assert (page.step, page.state) == (1, "active")
    finally:
        await second.world.close()
