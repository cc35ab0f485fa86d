"""Pages end to end, continued: SMS parts with the ack line and link, `/send oncall`, an
acknowledgement while a step is going out, provider words in the timeline, and the timeline's
order in the thread (all on the test's clock; held parts are released by the test)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from bot.slack.mrkdwn import unescape
from providers.sms_parts import count
from tests.bot.bridge_kit import ALICE, BOB, CONFIG, Bridge
from tests.bot.paging.test_paging_e2e import ALICE_PHONE, BOB_PHONE, page_id_in
from tests.bot.paging_kit import Clock, root_of, sms_texts, start_paging
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

ONE_PART = CONFIG.replace(
    "channels:\n",
    "channels:\n  sms-short: {provider: tnt, service: sms, allowed_senders: [sre],"
    " allow_adhoc: true, max_sms_parts: 1}\n",
    1,
)
SHORT = """
  short:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [sms-short], wait: 5m}
"""


def thread_of(bridge: Bridge, page_id: str) -> list[str]:
    """The page's thread replies, in the order Slack received them."""
    root = root_of(bridge, page_id)
    return [
        str(call.args["text"])
        for call in bridge.slack.calls_to("chat.postMessage")
        if call.error is None and call.args.get("thread_ts") == root.ts
    ]


async def test_a_page_whose_ack_line_and_link_would_overflow_the_part_limit_is_refused(
    tmp_path: Path,
) -> None:
    bridge = await start_paging(tmp_path, Clock(), config=ONE_PART, extra=SHORT)
    try:
        alone = "Disk on db-1 is full. " * 6 + "Check now."  # 142 characters: one part alone
        assert count(alone).parts == 1
        refused = await slash(bridge, f"page short {alone}")
        assert "the limit is 1" in unescape(refused.text)
        assert "page id and how to acknowledge" in refused.text
        await bridge.idle()
        assert sms_texts(bridge) == []
        fits = "Disk on db-1 is full. Check now."
        page_id = page_id_in((await slash(bridge, f"page short {fits}")).text)
        await wait_until(lambda: sms_texts(bridge), what="the page")
        [delivery] = bridge.emulators.talkntalk.deliveries
        text = str(delivery.payload["message"])
        assert text.startswith(fits)
        assert f"ack {page_id}" in text
        assert "/ack/" in text
        assert count(text).parts == 1
    finally:
        await bridge.world.close()


async def test_oncall_names_who_is_on_call_until_when_and_who_is_next(tmp_path: Path) -> None:
    bridge = await start_paging(tmp_path, Clock())
    try:
        every = await slash(bridge, "oncall")
        # 2026-11-24 06:00 in Nairobi: alice's week (from Mon 23 Nov 09:00), then bob's.
        assert "*primary*: <@U0ALICE001> until Mon 30 Nov 09:00 EAT" in every.text
        assert "next: <@U0BOB00002> from Mon 30 Nov 09:00 EAT" in every.text
        one = await slash(bridge, "oncall primary", user=BOB)
        assert one.text == every.text
        unknown = await slash(bridge, "oncall nights")
        assert "There is no schedule `nights`. Schedules: primary." in unknown.text
    finally:
        await bridge.world.close()


async def test_an_ack_while_a_step_is_going_out_stops_every_later_step(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    tnt = bridge.emulators.talkntalk
    gate = asyncio.Event()
    arrived = asyncio.Event()

    async def held(_seconds: float) -> None:  # the emulator's latency: held by the test
        arrived.set()
        await gate.wait()

    try:
        page_id = page_id_in((await slash(bridge, "page db-outage DB down")).text)
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1")
        tnt.latency, tnt.sleep = 1.0, held
        clock.advance(timedelta(minutes=5))
        stepping = asyncio.create_task(bridge.runtime.paging.tick())
        await asyncio.wait_for(arrived.wait(), 30)  # step 2's SMS to bob is going out
        answer = await slash(bridge, f"ack {page_id}", user=ALICE)
        assert "You acknowledged" in answer.text
        gate.set()
        await asyncio.wait_for(stepping, 30)
        await bridge.idle()
        assert [to for to, _ in sms_texts(bridge)] == [ALICE_PHONE, BOB_PHONE]  # not recalled
        for _ in range(3):  # well past every later wait
            clock.advance(timedelta(minutes=30))
            await bridge.runtime.paging.tick()
        await bridge.idle()
        assert len(sms_texts(bridge)) == 2
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert page.state == "acknowledged"
    finally:
        gate.set()
        await bridge.world.close()


async def test_provider_words_in_the_timeline_are_shown_as_written_and_inert(
    tmp_path: Path,
) -> None:
    bridge = await start_paging(tmp_path, Clock())
    bridge.emulators.talkntalk.inject(status=400, body={"message": "bad {0} {alice} <!channel>"})
    try:
        page_id = page_id_in((await slash(bridge, "page db-outage DB down")).text)
        await wait_until(
            lambda: any("failed" in t for t in thread_of(bridge, page_id)), what="the failure"
        )
        await bridge.runtime.paging.tick()
        await bridge.runtime.paging.wait_idle()
        [failed] = [t for t in thread_of(bridge, page_id) if "failed" in t]
        assert "<@U0ALICE001>" in failed  # the person paged, as their mention
        assert "bad {0} {alice} &lt;!channel&gt;" in failed  # the provider's words, inert
        assert "<!channel>" not in json.dumps(thread_of(bridge, page_id))
    finally:
        await bridge.world.close()


async def test_the_timeline_is_posted_in_event_order(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    slack = bridge.slack
    gate = asyncio.Event()
    posts = 0

    async def first_post_held(_seconds: float) -> None:  # Slack's latency on chat.postMessage
        nonlocal posts
        posts += 1
        if posts == 1:  # the first reply after the escalation waits for the test
            await gate.wait()

    paging = bridge.runtime.paging
    try:
        page_id = page_id_in((await slash(bridge, "page db-outage DB down")).text)
        await wait_until(lambda: len(thread_of(bridge, page_id)) == 1, what="paged alice")
        slack.latency["chat.postMessage"] = 1.0
        slack.sleep = first_post_held
        clock.advance(timedelta(minutes=5))
        await paging.tick()  # escalated, paged bob: the first of these is held
        await wait_until(lambda: posts >= 1, what="the escalation's reply going out")
        await slash(bridge, f"ack {page_id}", user=ALICE)  # one more event, one more refresh
        await wait_until(
            lambda: len(thread_of(bridge, page_id)) > 1 or page_id in paging.slack.queued,
            what="the ack's refresh, posted or queued",
        )
        gate.set()
        await wait_until(lambda: len(thread_of(bridge, page_id)) == 4, what="the thread")
        await paging.wait_idle()
        assert thread_of(bridge, page_id) == [
            "paged <@U0ALICE001> by sms-adhoc",
            "escalated to step 2",
            "paged <@U0BOB00002> by sms-adhoc",
            "acknowledged by <@U0ALICE001> (Slack)",
        ]
    finally:
        gate.set()
        await bridge.world.close()
