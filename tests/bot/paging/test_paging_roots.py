"""A page whose root message was never recorded gets one, once, from whichever scheduler gets
there: the process died between recording the page and posting (or recording) its root, or
Slack refused the post. On the test's clock; the sandbox Slack and the real stores."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.paging import slack as page_slack
from bot.paging.service import PagingService
from bot.report_roots import root_metadata
from bot.store import Store
from bot.store.pages_base import NewPage
from tests.bot.bridge_kit import INCIDENTS, Bridge
from tests.bot.paging.test_paging_e2e import page_id_in
from tests.bot.paging_kit import Clock, sms_texts, start_paging
from tests.bot.slack_steps import slash
from tests.bot.store_backends import Backend
from tests.clocks import wait_until

GRACE = timedelta(seconds=30)  # defaults.takeover_after in the test config


def roots(bridge: Bridge, page_id: str) -> list[Any]:
    """Every top-level message in the channel naming the page."""
    return [m for m in bridge.channel_messages() if not m.is_reply and page_id in m.text]


def thread(bridge: Bridge, ts: str) -> list[str]:
    return [m.text for m in bridge.channel_messages() if m.is_reply and m.thread_ts == ts]


async def recorded_without_root(bridge: Bridge, clock: Clock, page_id: str) -> None:
    """A page as a start that died right after ``create_page`` leaves it: recorded, no root.
    The scheduler still runs its step 1."""
    new = NewPage(page_id, "db-outage", "DB down", "U0ALICE001", INCIDENTS, clock())
    await bridge.runtime.store.create_page(new)
    await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1 from the scheduler")
    await bridge.runtime.paging.wait_idle()


async def test_a_page_whose_root_post_slack_refused_gets_one_with_its_thread(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    paging = bridge.runtime.paging
    try:
        bridge.slack.fail_next("chat.postMessage", "fatal_error", status=200, retry_after=None)
        page_id = page_id_in((await slash(bridge, "page db-outage DB primary is down")).text)
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1")
        await bridge.idle()
        assert roots(bridge, page_id) == []  # Slack refused it: nobody can see the page
        clock.advance(GRACE)
        await paging.tick()
        await paging.wait_idle()
        [root] = roots(bridge, page_id)
        assert "Paged: <@U0ALICE001> by sms-adhoc" in str(root.blocks)
        assert thread(bridge, root.ts) == ["paged <@U0ALICE001> by sms-adhoc"]
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert page.root_ts == root.ts
        # From here on the page's thread follows it as any other.
        clock.advance(timedelta(minutes=5))
        await paging.tick()
        await wait_until(lambda: len(thread(bridge, root.ts)) == 3, what="step 2 in the thread")
        for _ in range(3):
            await paging.tick()
        await paging.wait_idle()
        assert len(roots(bridge, page_id)) == 1
    finally:
        await bridge.world.close()


async def test_within_the_grace_period_nothing_is_posted_again(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    paging = bridge.runtime.paging
    try:
        await recorded_without_root(bridge, clock, "PGRACE001")
        clock.advance(GRACE - timedelta(seconds=1))  # the starting replica may still be posting
        for _ in range(3):
            await paging.tick()
        await paging.wait_idle()
        assert roots(bridge, "PGRACE001") == []
        assert bridge.slack.calls_to("conversations.history") == []
        page = await bridge.runtime.store.get_page("PGRACE001")
        assert page is not None
        assert (page.root_ts, page.root_claimed_until) == (None, None)
        clock.advance(timedelta(seconds=1))
        await paging.tick()
        await paging.wait_idle()
        [root] = roots(bridge, "PGRACE001")
        assert root.metadata == root_metadata("PGRACE001", page_slack.PAGE_ROOT)
        assert thread(bridge, root.ts) == ["paged <@U0ALICE001> by sms-adhoc"]
    finally:
        await bridge.world.close()


async def test_a_root_posted_but_not_recorded_is_found_and_adopted(tmp_path: Path) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    paging = bridge.runtime.paging
    try:
        await recorded_without_root(bridge, clock, "PADOPT001")
        # The dead replica's post went out; its ts was never recorded. Others came after it.
        posted = await bridge.runtime.client.chat_postMessage(
            channel=INCIDENTS,
            text="Page PADOPT001: DB down",
            metadata=root_metadata("PADOPT001", page_slack.PAGE_ROOT),
        )
        for i in range(3):
            await bridge.runtime.client.chat_postMessage(channel=INCIDENTS, text=f"chatter {i}")
        clock.advance(GRACE)
        for _ in range(3):
            await paging.tick()
        await paging.wait_idle()
        [root] = roots(bridge, "PADOPT001")
        assert root.ts == posted["ts"]
        page = await bridge.runtime.store.get_page("PADOPT001")
        assert page is not None
        assert page.root_ts == posted["ts"]
        assert "Paged: <@U0ALICE001> by sms-adhoc" in str(root.blocks)  # updated in place
        assert thread(bridge, root.ts) == ["paged <@U0ALICE001> by sms-adhoc"]
    finally:
        await bridge.world.close()


async def test_a_slack_failure_is_one_line_and_tried_again_after_the_claim(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    paging = bridge.runtime.paging
    try:
        await recorded_without_root(bridge, clock, "PFAIL0001")
        clock.advance(GRACE)
        bridge.slack.fail_next("chat.postMessage", "fatal_error", status=200, retry_after=None)
        with caplog.at_level(logging.WARNING):
            for _ in range(5):  # the claim holds: one attempt, not one a tick
                await paging.tick()
            await paging.wait_idle()
        assert roots(bridge, "PFAIL0001") == []
        assert len(bridge.slack.calls_to("conversations.history")) == 1
        [line] = [r for r in caplog.records if "PFAIL0001" in r.getMessage()]
        assert "fatal_error" in line.getMessage()
        assert line.exc_info is None
        clock.advance(GRACE)  # the claim has run out: the next tick tries again
        await paging.tick()
        await paging.wait_idle()
        assert len(roots(bridge, "PFAIL0001")) == 1
    finally:
        await bridge.world.close()


async def test_two_schedulers_ticking_at_once_post_one_root(
    tmp_path: Path, backend: Backend
) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock, BRIDGE_DB=backend.target)
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
        await recorded_without_root(bridge, clock, "PRACE0001")
        clock.advance(GRACE)
        # The winner's history lookup is answered only when the test says: meanwhile every other
        # tick (both services, and the bridge's own loop) finds the page claimed.
        held = bridge.slack.hold_reply("conversations.history")
        racing = asyncio.gather(first.tick(), second.tick(), first.tick(), second.tick())
        await wait_until(lambda: bridge.slack.calls_to("conversations.history"), what="a lookup")
        await asyncio.wait_for(asyncio.gather(first.tick(), second.tick()), 10)
        assert len(bridge.slack.calls_to("conversations.history")) == 1
        held.set()
        await asyncio.wait_for(racing, 10)
        for service in (first, second):
            await service.tick()
            await service.wait_idle()
        [root] = roots(bridge, "PRACE0001")
        # Whichever service's worker won the event posts it; the bridge's own scheduler loop
        # may have started that worker after the waits above (seen once in a loaded full run).
        await wait_until(lambda: thread(bridge, root.ts), what="the page's thread")
        await first.wait_idle()
        await second.wait_idle()
        assert thread(bridge, root.ts) == ["paged <@U0ALICE001> by sms-adhoc"]
        assert len(bridge.slack.calls_to("conversations.history")) == 1
    finally:
        bridge.slack.release_reply("conversations.history")
        await second.stop()
        if other_store is not None:
            await other_store.close()
        await bridge.world.close()
