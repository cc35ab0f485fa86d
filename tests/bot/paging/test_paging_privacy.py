"""What a page to a contact list of numbers shows, and what an acknowledgement tells someone who
may not acknowledge (issue 15, items 2 and 8): numbers masked in the root message, the thread
and the ack pages; links with an opaque target, in one spelling; "no such page" word for word."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import aiohttp
from yarl import URL

from tests.bot.bridge_kit import ALICE, CAROL, Bridge
from tests.bot.paging.test_paging_e2e import page_id_in
from tests.bot.paging.test_paging_more import thread_of
from tests.bot.paging_kit import Clock, root_of, sms_texts, start_paging
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

# The sandbox's contact list `oncall`: two numbers, nobody's name in people.
NUMBERS = """
  numbers:
    allowed_senders: [sre]
    steps:
      - {notify: [oncall], via: [sms-adhoc], wait: 5m}
"""
WHOLE = ("254712345678", "254798765432")
MASKED = "+2547•••••678"
TOKEN = re.compile(r"https://bridge\.example/ack/([A-Za-z0-9_-]+)")


def shows_no_number(text: str) -> bool:
    return not any(number in text for number in WHOLE)


async def call(bridge: Bridge, method: str, path: str) -> tuple[int, str]:
    """``path`` sent as written (``encoded=True``: the client escapes and unescapes nothing)."""
    url = URL(bridge.world.bridge.url + path, encoded=True)
    async with aiohttp.ClientSession() as http, http.request(method, url) as answer:
        return answer.status, await answer.text()


async def post(bridge: Bridge, path: str) -> tuple[int, str]:
    return await call(bridge, "POST", path)


async def get(bridge: Bridge, path: str) -> tuple[int, str]:
    return await call(bridge, "GET", path)


async def test_a_page_to_numbers_masks_them_in_slack_links_and_ack_pages(tmp_path: Path) -> None:
    bridge = await start_paging(tmp_path, Clock(), extra=NUMBERS)
    try:
        page_id = page_id_in((await slash(bridge, "page numbers Disk full")).text)
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="both numbers paged")
        tokens = {to: TOKEN.findall(text)[0] for to, text in sms_texts(bridge)}
        assert set(tokens) == set(WHOLE)
        for token in tokens.values():
            assert shows_no_number(token)
            assert shows_no_number(base64.urlsafe_b64decode(token).decode("latin-1"))
        await wait_until(
            lambda: (
                "Paged:" in str(root_of(bridge, page_id).blocks)
                and "by" in str(root_of(bridge, page_id).blocks)
            ),
            what="the root message names who was paged",
        )
        status, html = await post(bridge, f"/ack/{tokens[WHOLE[0]]}")
        assert (status, "is acknowledged" in html) == (200, True)
        # The other recipient's ack page says who was first, masked.
        status, html = await get(bridge, f"/ack/{tokens[WHOLE[1]]}")
        assert status == 200
        assert f"already acknowledged by {MASKED}" in html
        assert shows_no_number(html)
        await wait_until(
            lambda: any("acknowledged by" in line for line in thread_of(bridge, page_id)),
            what="the acknowledgement in the thread",
        )
        await bridge.idle()
        root = root_of(bridge, page_id)
        shown = root.text + str(root.blocks)
        assert f"Acknowledged* by {MASKED}" in shown
        assert f"Paged: {MASKED} by sms-adhoc" in shown
        assert shows_no_number(shown)
        thread = thread_of(bridge, page_id)
        assert f"acknowledged by {MASKED} (link)" in thread
        assert f"paged {MASKED} by sms-adhoc" in thread
        assert all(shows_no_number(line) for line in thread), thread
    finally:
        await bridge.world.close()


async def test_an_ack_link_is_accepted_only_as_written(tmp_path: Path) -> None:
    bridge = await start_paging(tmp_path, Clock(), extra=NUMBERS)
    try:
        await slash(bridge, "page numbers Disk full")
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="both numbers paged")
        token = TOKEN.findall(sms_texts(bridge)[0][1])[0]
        escaped_first = f"%{ord(token[0]):02X}" + token[1:]  # the same token, percent-escaped
        for spelling in (escaped_first, token + "%2E", token + "=", token[:18] + "." + token[18:]):
            assert await get(bridge, f"/ack/{spelling}") == await get(bridge, "/ack/forged")
            status, html = await post(bridge, f"/ack/{spelling}")
            assert (status, "is not valid" in html) == (404, True)
        status, html = await get(bridge, f"/ack/{token}")
        assert (status, "<form method=post>" in html) == (200, True)
    finally:
        await bridge.world.close()


async def test_someone_who_may_not_acknowledge_learns_nothing_of_the_page(tmp_path: Path) -> None:
    bridge = await start_paging(tmp_path, Clock())
    try:
        page_id = page_id_in((await slash(bridge, "page db-outage Disk full")).text)
        await wait_until(lambda: sms_texts(bridge), what="step 1")
        unknown_id = "P00000000"
        unknown = await slash(bridge, f"ack {unknown_id}", user=CAROL)
        assert unknown.text == f"There is no page `{unknown_id}`. Page ids look like P7K3QX9A2."

        async def as_if_unknown() -> None:
            answer = await slash(bridge, f"ack {page_id}", user=CAROL)
            assert answer.text == unknown.text.replace(unknown_id, page_id)
            assert answer.blocks == unknown.blocks

        await as_if_unknown()  # while the page is active
        # The button sits on the page's own message, which shows all that already: it explains.
        before = len(bridge.slack.ephemerals)
        status, _ = await bridge.as_user(CAROL).click(
            root_of(bridge, page_id).ts, "ack_page", value=page_id
        )
        assert status == 200
        await wait_until(lambda: len(bridge.slack.ephemerals) > before, what="the button's answer")
        assert "You may not acknowledge page" in bridge.slack.ephemerals[-1].text
        acked = await slash(bridge, f"ack {page_id}", user=ALICE)
        assert "You acknowledged" in acked.text
        await as_if_unknown()  # and once someone acknowledged it: not who, nor when
        await bridge.idle()
    finally:
        await bridge.world.close()
