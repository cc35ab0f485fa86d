"""Each person's contact rules drive how a page reaches them, end to end: the bridge, the
provider emulators and the Slack stand-in on loopback, on a clock the test drives.

dave's rules: WhatsApp (india-wa) at once, SMS (sms-adhoc) after 1m, WhatsApp Business
(customers) after 2m. Each rule is a durable timer: it goes at its time, once, by its channel,
whoever ticks (a restarted bridge, two schedulers on one store), and never after an ack.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.paging.service import PagingService
from bot.store import Store
from tests.bot.bridge_kit import ALICE, Bridge
from tests.bot.crash_kit import restart_in_process
from tests.bot.paging.test_paging_more import thread_of
from tests.bot.paging_kit import Clock
from tests.bot.reach_kit import (
    DAVE_SMS,
    DAVE_WA,
    START,
    options,
    page,
    reach_bridge,
    sent,
)
from tests.bot.slack_steps import slash
from tests.bot.store_backends import Backend
from tests.clocks import wait_until

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
WA = ("kal", DAVE_WA)
SMS = ("tnt", DAVE_SMS)
WABA = ("ak", DAVE_WA)


async def at(bridge: Bridge, clock: Clock, moment: timedelta) -> None:
    """Move the clock to ``START + moment``, tick, and let the sends go out."""
    clock.now = START + moment
    await bridge.runtime.paging.tick()
    await bridge.idle()


async def test_three_rules_go_at_their_times_by_their_channels(tmp_path: Path) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "rules")
        await wait_until(lambda: sent(bridge) == [WA], what="rule 1 at once")
        await at(bridge, clock, MINUTE - SECOND)
        assert sent(bridge) == [WA]
        await at(bridge, clock, MINUTE)
        await wait_until(lambda: sent(bridge) == [SMS, WA], what="rule 2 at 1m")
        await at(bridge, clock, 2 * MINUTE - SECOND)
        assert sorted(sent(bridge)) == sorted([WA, SMS])
        await at(bridge, clock, 2 * MINUTE)
        await wait_until(lambda: len(sent(bridge)) == 3, what="rule 3 at 2m")
        assert sorted(sent(bridge)) == sorted([WA, SMS, WABA])
        await at(bridge, clock, 5 * MINUTE)
        assert len(sent(bridge)) == 3  # each once
        await bridge.runtime.paging.wait_idle()
        assert thread_of(bridge, page_id) == [
            "paged <@U0DAVE0004> by india-wa (rule 1)",
            "paged <@U0DAVE0004> by sms-adhoc (rule 2)",
            "paged <@U0DAVE0004> by customers (rule 3)",
        ]
        view = await bridge.runtime.paging.view(page_id, None)
        assert view is not None
        assert [(s.channel, s.rule) for s, _ in view.sends] == [
            ("india-wa", 0),
            ("sms-adhoc", 1),
            ("customers", 2),
        ]
    finally:
        await bridge.world.close()


async def test_a_chain_longer_than_the_escalation_is_not_cut_short(tmp_path: Path) -> None:
    """rules-short's one step waits 30s; dave's rules run to 2m: the page stays open for them
    and ends unanswered 30s after the last."""
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "rules-short")
        await wait_until(lambda: sent(bridge) == [WA], what="rule 1 at once")
        await at(bridge, clock, 30 * SECOND)  # the step's wait is over: rules 2 and 3 to come
        await at(bridge, clock, MINUTE)
        await at(bridge, clock, 2 * MINUTE)
        await wait_until(lambda: len(sent(bridge)) == 3, what="rules 2 and 3")
        await at(bridge, clock, 2 * MINUTE + 29 * SECOND)
        open_page = await bridge.runtime.store.get_page(page_id)
        assert open_page is not None
        assert open_page.state == "active"
        await at(bridge, clock, 2 * MINUTE + 30 * SECOND)
        ended = await bridge.runtime.store.get_page(page_id)
        assert ended is not None
        assert ended.state == "ended"
        await at(bridge, clock, 10 * MINUTE)
        assert sorted(sent(bridge)) == sorted([WA, SMS, WABA])  # each once
    finally:
        await bridge.world.close()


async def test_an_ack_after_rule_2_means_rule_3_never_goes(tmp_path: Path) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "rules")
        await at(bridge, clock, MINUTE)
        await wait_until(lambda: len(sent(bridge)) == 2, what="rules 1 and 2")
        clock.now = START + MINUTE + 30 * SECOND
        assert "You acknowledged" in (await slash(bridge, f"ack {page_id}", user=ALICE)).text
        for later in (2, 3, 10, 30):
            await at(bridge, clock, later * MINUTE)
        assert sorted(sent(bridge)) == sorted([WA, SMS])  # rule 3 (customers) never went
        timers = await bridge.runtime.store.page_timers(page_id)
        assert [(t.rule, t.done) for t in timers] == [(0, True), (1, True), (2, False)]
    finally:
        await bridge.world.close()


async def test_a_restart_in_the_middle_of_a_chain_neither_drops_nor_doubles(
    tmp_path: Path,
) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        page_id = await page(bridge, "rules")
        await wait_until(lambda: sent(bridge) == [WA], what="rule 1")
        # The first process, at 1m: claims rule 2's timer, sends it, and dies before the timer
        # is marked done (nobody renews the claim).
        clock.now = START + MINUTE
        store = bridge.runtime.store
        engine = bridge.runtime.paging.engine
        rule_2 = (await store.page_timers(page_id))[1]
        assert await store.claim_page_timer(rule_2, clock(), clock() + 5 * SECOND)
        record = await store.get_page(page_id)
        assert record is not None
        assert await engine.send_rule(record, rule_2, engine.paged_named("dave"))
        await wait_until(lambda: SMS in sent(bridge), what="rule 2's SMS")
        bridge.world = await restart_in_process(bridge.world, tmp_path, options(clock))

        await at(bridge, clock, MINUTE + SECOND)  # the dead process's claim still holds
        assert not (await bridge.runtime.store.page_timers(page_id))[1].done
        await at(bridge, clock, MINUTE + 5 * SECOND)  # lapsed: run again, its send recorded
        assert (await bridge.runtime.store.page_timers(page_id))[1].done
        await at(bridge, clock, 2 * MINUTE)
        await wait_until(lambda: len(sent(bridge)) == 3, what="rule 3")
        await at(bridge, clock, 5 * MINUTE)
        assert sorted(sent(bridge)) == sorted([WA, SMS, WABA])  # nothing dropped, nothing twice
        await bridge.runtime.paging.wait_idle()
        assert thread_of(bridge, page_id) == [
            "paged <@U0DAVE0004> by india-wa (rule 1)",
            "paged <@U0DAVE0004> by sms-adhoc (rule 2)",
            "paged <@U0DAVE0004> by customers (rule 3)",
        ]
    finally:
        await bridge.world.close()


async def test_two_schedulers_on_one_store_send_each_rule_once(
    tmp_path: Path, backend: Backend
) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock, BRIDGE_DB=backend.target)
    first = bridge.runtime.paging
    store: Store = bridge.runtime.store
    other_store = None
    if backend.kind != "sqlite":  # a second replica: its own pool on the same database
        other_store = backend.store(clock=clock)
        await other_store.open()
        store = other_store
    second = PagingService(
        bridge.settings, store, first.service, bridge.runtime.client, clock=clock
    )
    try:
        page_id = await page(bridge, "rules")
        await wait_until(lambda: sent(bridge) == [WA], what="rule 1")
        for moment in (MINUTE, 2 * MINUTE, 3 * MINUTE):
            clock.now = START + moment
            await asyncio.gather(*(s.tick() for s in (first, second, first, second)))
        await bridge.idle()
        await wait_until(lambda: len(sent(bridge)) == 3, what="rules 2 and 3")
        await asyncio.gather(first.tick(), second.tick())
        await bridge.idle()
        assert sorted(sent(bridge)) == sorted([WA, SMS, WABA])
        sends = await bridge.runtime.store.page_sends(page_id)
        assert [s.rule for s in sends] == [0, 1, 2]
    finally:
        await second.stop()
        if other_store is not None:
            await other_store.close()
        await bridge.world.close()


async def test_a_failed_rule_brings_the_next_forward_and_the_thread_says_so(
    tmp_path: Path,
) -> None:
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    bridge.emulators.kaleyra.inject(status=400, body={"error": "number not on WhatsApp"})
    try:
        page_id = await page(bridge, "rules")
        failed = await wait_for_failed(bridge, page_id)
        assert sent(bridge) == []  # WhatsApp refused it
        await at(bridge, clock, 10 * SECOND)  # the next tick: rule 2 now, not at 1m
        await wait_until(lambda: sent(bridge) == [SMS], what="rule 2 brought forward")
        await at(bridge, clock, MINUTE)
        assert sent(bridge) == [SMS]  # not again at its own time
        await at(bridge, clock, 2 * MINUTE)  # rule 3 keeps its time
        await wait_until(lambda: len(sent(bridge)) == 2, what="rule 3")
        await bridge.runtime.paging.wait_idle()
        thread = thread_of(bridge, page_id)
        assert thread[0] == "paged <@U0DAVE0004> by india-wa (rule 1)"
        assert failed in thread[1]
        assert thread[1].startswith("paging <@U0DAVE0004> by india-wa (rule 1) failed: ")
        assert thread[2:] == [
            "<@U0DAVE0004>: rule 1 failed, so rule 2 (sms-adhoc) goes now",
            "paged <@U0DAVE0004> by sms-adhoc (rule 2)",
            "paged <@U0DAVE0004> by customers (rule 3)",
        ]
    finally:
        await bridge.world.close()


async def wait_for_failed(bridge: Bridge, page_id: str) -> str:
    """Wait for the page's first send to be recorded as failed; the provider's reason."""
    store = bridge.runtime.store
    engine = bridge.runtime.paging.engine
    reason: list[str] = []

    async def failed() -> bool:
        for send in await store.page_sends(page_id):
            recipient = await engine.recipient_of(send)
            if recipient is not None and recipient.status.value == "failed":
                reason.append(recipient.reason or "")
                return True
        return False

    for _ in range(200):
        if await failed():
            return reason[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the first rule's send was never recorded as failed")


async def test_a_text_too_long_for_an_sms_rule_is_refused_at_the_start(tmp_path: Path) -> None:
    """rules-wa's step pages by WhatsApp only, but dave's second rule is an SMS: the text must
    fit it, or the page would fail on its second rule minutes later."""
    clock = Clock(START)
    bridge = await reach_bridge(tmp_path, clock)
    try:
        answer = await slash(bridge, "page rules-wa " + "disk full " * 120)
        assert "sms-adhoc" in answer.text
        assert "The page id and how to acknowledge are counted too." in answer.text
        assert await bridge.runtime.store.active_pages() == []
        await page(bridge, "rules-wa")  # a text that fits goes
        await wait_until(lambda: sent(bridge) == [WA], what="rule 1")
    finally:
        await bridge.world.close()
