"""The demo's page: alice pages an escalation, nobody answers step 1, step 2 pages carol, and
carol acknowledges from the link in her SMS; printed as the people involved see it.

Why a clock that skips: an escalation waits minutes between steps, and the demo must finish in
seconds. The bridge reads time from ``SkipClock`` (real time plus an offset); the demo moves the
offset past a ``wait`` and the bridge's own scheduler loop, ticking as it always does, finds
the step due. Nothing is called behind the bridge's back: the page starts with the slash
command and is acknowledged by an HTTP GET then POST of the link, as a phone's browser would.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp

from bridge_sandbox.slack.state import PostedMessage, SlackState
from bridge_sandbox.slack.transcript import render_thread
from bridge_sandbox.slack.user import SlackUser
from bridge_sandbox.world import World
from config.numbers import mask_address

# Appended to the sandbox config for the demo: two people paged in turn, five minutes apart.
PAGING_CONFIG = """
people:
  bob:   {phone: "0798 765 432", slack: U0BOB00002}
  carol: {phone: "+254722000777"}

escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {notify: [bob], via: [sms-adhoc], wait: 5m}
      - {notify: [carol], via: [sms-adhoc], wait: 10m}
"""
PAGE_TEXT = "Primary database refuses writes; checkout is failing"
BOB_PHONE, CAROL_PHONE = "254798765432", "254722000777"  # as the TalkNTalk emulator records them
LINK = re.compile(r"https?://\S+/ack/\S+")
_PAGE_ID = re.compile(r"\bP[0-9A-Z]{8}\b")


class SkipClock:
    """Real UTC time plus an offset the demo moves forward to skip a wait."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def skip(self, delta: timedelta) -> None:
        self.offset += delta


def visible_text(page: str) -> str:
    """The words a browser shows of one of the bridge's small pages (title and style dropped)."""
    body = page.split("<body>", 1)[-1]
    text = re.sub(r"<[^>]+>", "\n", body)
    return " ".join(html.unescape(line).strip() for line in text.splitlines() if line.strip())


class PageFlow:
    """One page through an escalation, acknowledged by link; raises ``failed(...)`` if the bridge
    does not do what it should (the demo's exit status depends on it)."""

    def __init__(
        self,
        world: World,
        clock: SkipClock,
        say: Callable[[str], None],
        failed: Callable[[str], Exception],
    ) -> None:
        self.world = world
        self.clock = clock
        self.say = say
        self.failed = failed
        self.slack: SlackState = world.slack.state

    def sms_to(self, phone: str, page_id: str) -> list[str]:
        """The texts of this page that ``phone`` received."""
        texts = (
            str(d.payload.get("message", ""))
            for d in self.world.emulators.talkntalk.deliveries
            if d.recipient == phone and isinstance(d.payload, dict)
        )
        return [text for text in texts if page_id in text]

    async def phone_gets(self, phone: str, page_id: str, who: str) -> str:
        texts = await self.slack.wait_for(lambda _: self.sms_to(phone, page_id) or None)
        self.say(f"  {who} ({mask_address('+' + phone)}) gets an SMS:")
        for line in texts[-1].splitlines():
            self.say(f"    │ {line}")
        return texts[-1]

    async def run(self, alice: SlackUser, channel: str) -> str:
        """The whole page; returns its id."""
        command = f"page db-outage {PAGE_TEXT}"
        self.say(f"▶ alice types in #ops-incidents:  /send {command}")
        before = len(self.slack.ephemerals)
        await alice.slash("/send", command)
        eph = await self.slack.wait_for(lambda s: s.ephemerals[before:] or None)
        self.say(f"  Slack shows alice: {eph[0].text}")
        found = _PAGE_ID.search(eph[0].text)
        if found is None:
            raise self.failed(f"the page did not start: {eph[0].text}")
        page_id = found.group(0)
        await self.phone_gets(BOB_PHONE, page_id, "step 1: bob")

        self.say("⏩ 5 minutes pass and nobody acknowledges (the demo's clock skips them)")
        self.clock.skip(timedelta(minutes=5))
        carol_sms = await self.phone_gets(CAROL_PHONE, page_id, "step 2: carol")
        link = LINK.search(carol_sms)
        if link is None:
            raise self.failed("carol's SMS has no acknowledge link")

        self.say("⏩ 2 minutes later carol opens the link on her phone")
        self.clock.skip(timedelta(minutes=2))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(link.group(0)) as shown:
                self.say(f"  her browser shows: {visible_text(await shown.text())}")
            async with http.post(link.group(0)) as pressed:
                answer = visible_text(await pressed.text())
        self.say(f"  she presses Acknowledge: {answer}")
        if "is acknowledged" not in answer:
            raise self.failed(f"the link did not acknowledge: {answer}")
        root = await self.slack.wait_for(lambda _: self._acknowledged_root(channel, page_id))

        self.say("⏩ an hour passes: the page is acknowledged, so no step 3 and no repeat")
        self.clock.skip(timedelta(hours=1))
        await self.world.runtime.paging.tick()
        await self.world.idle()
        await self.world.runtime.paging.wait_idle()
        if len(self.sms_to(BOB_PHONE, page_id)) != 1 or len(self.sms_to(CAROL_PHONE, page_id)) != 1:
            raise self.failed("a step of the acknowledged page was sent again")
        self.say("\nThe page in #ops-incidents, with its timeline in the thread:\n")
        self.say(render_thread(self.slack, channel, root.ts, viewer="U0ALICE001"))
        return page_id

    def _acknowledged_root(self, channel: str, page_id: str) -> PostedMessage | None:
        """The page's root message once it shows the acknowledgement."""
        for message in self.slack.messages.get(channel, []):
            root = not message.is_reply and page_id in message.text
            if root and "Acknowledged" in repr(message.blocks):
                return message
        return None
