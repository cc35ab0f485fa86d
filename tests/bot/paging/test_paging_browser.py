"""The acknowledge link opened in a real headless Chromium, as the person paged by SMS would.

Why a browser: chat apps and phones open the link in a browser (and preview it with a GET); only
a browser proves the page renders, that looking at it acknowledges nothing, and that its button
does. The link is read from the SMS the emulator received and points at the bridge itself
(``BRIDGE_PUBLIC_URL`` is its own loopback URL), so nothing in the URL is rewritten.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.bot.bridge_kit import CONFIG, FAST, Bridge, start_bridge
from tests.bot.paging_kit import Clock, root_of
from tests.bot.slack_steps import slash
from tests.browser import click_button_and_read, page_text
from tests.clocks import wait_until

if TYPE_CHECKING:
    from playwright.async_api import Page

PAGING = """
people:
  alice: {phone: "+254712345678", slack: U0ALICE001}
  bob:   {phone: "0798 765 432", slack: U0BOB00002}

escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [sms-adhoc], wait: 5m}
      - {notify: [bob], via: [sms-adhoc], wait: 5m}
  one-shot:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [sms-adhoc], wait: 5m}
"""
ALICE_PHONE = "254712345678"  # as the TalkNTalk emulator records it
LINK = re.compile(r"http://127\.0\.0\.1:\d+/ack/[A-Za-z0-9_.\-]+")


async def start(tmp_path: Path, clock: Clock) -> Bridge:
    options = replace(FAST, clock=clock, page_tick=0.05)
    return await start_bridge(
        tmp_path, config_text=CONFIG + PAGING, options=options, own_public_url=True
    )


def page_id_in(text: str) -> str:
    found = re.search(r"P[0-9A-Z]{8}", text)
    assert found is not None, text
    return found.group(0)


async def link_sent_to(bridge: Bridge, phone: str, page_id: str) -> str:
    """The acknowledge link in the SMS ``phone`` got for ``page_id`` (waited for)."""

    def texts() -> list[str]:
        return [
            str(d.payload.get("message", ""))
            for d in bridge.emulators.talkntalk.deliveries
            if d.recipient == phone and isinstance(d.payload, dict)
        ]

    await wait_until(lambda: any(page_id in t for t in texts()), what=f"the SMS of {page_id}")
    body = next(t for t in texts() if page_id in t)
    assert f"Ack: /send ack {page_id}" in body
    found = LINK.search(body)
    assert found is not None, f"no link to this bridge in the SMS: {body!r}"
    assert found.group(0).startswith(bridge.world.bridge.url + "/ack/")
    return found.group(0)


async def snapshot(bridge: Bridge, page_id: str) -> tuple[Any, ...]:
    """Everything an acknowledgement would change: the record, its timeline, Slack's view."""
    page = await bridge.runtime.store.get_page(page_id)
    events = [e.text for e in await bridge.runtime.store.page_events(page_id)]
    root = root_of(bridge, page_id)
    chat = sum(len(m) for m in bridge.slack.messages.values())
    return page, events, str(root.blocks), chat


async def test_the_link_in_the_sms_shows_the_page_and_only_its_button_acknowledges(
    browser_page: Page, tmp_path: Path
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, clock)
    try:
        page_id = page_id_in(
            (await slash(bridge, "page db-outage DB &lt;b&gt;primary&lt;/b&gt; down")).text
        )
        link = await link_sent_to(bridge, ALICE_PHONE, page_id)
        await bridge.idle()
        await bridge.runtime.paging.wait_idle()
        before = await snapshot(bridge, page_id)

        shown = await page_text(browser_page, link)  # what a link preview fetches, too
        assert "Acknowledge page" in shown
        assert "DB <b>primary</b> down" in shown  # the text as typed, not as markup
        await bridge.runtime.paging.wait_idle()
        assert await snapshot(bridge, page_id) == before  # a GET acknowledged nothing
        assert before[0].state == "active"

        clock.advance(timedelta(minutes=2, seconds=30))
        acked = await click_button_and_read(browser_page, link, "Acknowledge")
        assert f"Page {page_id} is acknowledged" in acked

        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert (page.state, page.acknowledged_by) == ("acknowledged", "person:alice")
        await wait_until(
            lambda: (
                "*Acknowledged* by <@U0ALICE001> after 2m 30s"
                in str(root_of(bridge, page_id).blocks)
            ),
            what="the root message naming who acknowledged and after how long",
        )

        again = await page_text(browser_page, link)
        assert "Already acknowledged" in again
        assert f"Page {page_id} was already acknowledged by alice" in again
        assert "(2m 30s after it started)" in again
        assert "Acknowledge page" not in again

        clock.advance(timedelta(hours=1))  # acknowledged: step 2 never runs
        await bridge.runtime.paging.tick()
        await bridge.idle()
        assert [d.recipient for d in bridge.emulators.talkntalk.deliveries] == [ALICE_PHONE]
    finally:
        await bridge.world.close()


async def test_the_link_of_a_page_that_ended_says_so_and_offers_no_button(
    browser_page: Page, tmp_path: Path
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, clock)
    try:
        page_id = page_id_in((await slash(bridge, "page one-shot Nobody home")).text)
        link = await link_sent_to(bridge, ALICE_PHONE, page_id)
        clock.advance(timedelta(minutes=5))  # the only step's wait passes: the page ends
        await bridge.runtime.paging.tick()
        await bridge.idle()
        page = await bridge.runtime.store.get_page(page_id)
        assert page is not None
        assert page.state == "ended"

        ended = await page_text(browser_page, link)
        assert "Page ended" in ended
        assert f"Page {page_id} has ended" in ended
        assert await browser_page.get_by_role("button").count() == 0

        bogus = link[:-16] + "A" * 16  # same page and person; the MAC's 16 characters replaced
        assert "not valid" in await page_text(browser_page, bogus, status=404)
    finally:
        await bridge.world.close()
