"""`python -m bot demo`: the whole bridge on this machine with no accounts.

A loopback Slack and the three provider emulators stand in for the real services; a scripted
Alice uses the slash command, the send modal (with a failure and Retry failed), the on-call
broadcast and a page that escalates once and is acknowledged by the link in its SMS (on a clock
that skips the waits); then the Slack channel is printed as a person would read it, with what
each phone got.
Exit status 0 only if every flow ended as it should, so the demo doubles as a smoke test.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bot.dispatch import RetryPolicy
from bot.server.runtime import RuntimeOptions
from bot.slack import ids
from bridge_sandbox.demo_paging import PAGING_CONFIG, PageFlow, SkipClock
from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.slack.state import SlackState
from bridge_sandbox.slack.transcript import render_channel
from bridge_sandbox.world import SANDBOX_CONFIG, World, start_world
from config.numbers import mask_address

ALICE = "U0ALICE001"
BOB = "U0BOB00002"
INCIDENTS = "C0INCIDENT"


class DemoFailed(Exception):
    """A scripted flow did not end as it should."""


class Demo:
    def __init__(self, world: World, out: TextIO) -> None:
        self.world = world
        self.out = out
        self.alice = world.user(ALICE, INCIDENTS)
        self.slack: SlackState = world.slack.state

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def slash_send(self) -> None:
        text = "oncall-sms Database failover in progress — expect errors for ~5 minutes"
        self.say(f"▶ alice types in #ops-incidents:  /send {text}")
        before = len(self.slack.ephemerals)
        await self.alice.slash("/send", text)
        eph = await self.slack.wait_for(lambda s: s.ephemerals[before:] or None)
        self.say(f"  Slack shows alice: {eph[0].text}")
        await self.world.idle()

    async def modal_with_retry(self) -> None:
        self.say("▶ alice types /send alone: the send modal opens")
        await self.alice.slash("/send", "")
        view: dict[str, Any] = await self.slack.wait_for(lambda s: s.last_view())
        self.say("  she picks sms-adhoc, adds three numbers and writes the message")
        updates = len(self.slack.calls_to("views.update"))
        await self.alice.choose(view["id"], ids.CHANNEL_ACTION, "sms-adhoc")
        await self.slack.wait_for(lambda s: len(s.calls_to("views.update")) > updates)
        # The provider refuses the first request for lack of balance: one recipient fails.
        self.world.emulators.talkntalk.inject(
            Fault(
                status=402,
                body={"code": "insufficient_balance", "detail": "Wallet balance too low"},
            )
        )
        values = {
            ids.TEXT_BLOCK: "Site visit needed at Westlands POP: power alarm on rack 4.",
            ids.NUMBERS_BLOCK: "+254700000001, 0700 000 002, +254700000003",
        }
        status, ack = await self.alice.submit(view["id"], values)
        if status != 200 or ack is not None:
            raise DemoFailed(f"the modal submission was refused: {status} {ack}")
        try:
            failure = await self.slack.wait_for(lambda s: self._message_with(ids.RETRY_FAILED))
        except TimeoutError:
            raise DemoFailed("no failure list with a Retry failed button was posted") from None
        await self.world.idle()
        self.say(
            "  one number failed (wallet empty); the top-up happens; alice clicks Retry failed"
        )
        value = self._button_value(failure.blocks, ids.RETRY_FAILED)
        await self.alice.click(failure.ts, ids.RETRY_FAILED, value=value)
        await self.slack.wait_for(lambda s: len(self.world.emulators.talkntalk.deliveries) >= 5)
        await self.world.idle()

    async def broadcast(self) -> None:
        self.say("▶ alice runs the On-call broadcast shortcut: SEV1, 'Checkout is down in eu-west'")
        opened = len(self.slack.calls_to("views.open"))
        await self.alice.shortcut(ids.BROADCAST_SHORTCUT)
        await self.slack.wait_for(lambda s: len(s.calls_to("views.open")) > opened)
        view = self.slack.last_view()
        assert view is not None
        values = {
            f"{ids.SEVERITY_BLOCK}.oncall": "SEV1",
            ids.TEXT_BLOCK: "Checkout is down in eu-west",
        }
        status, ack = await self.alice.submit(view["id"], values)
        if status != 200 or ack is not None:
            raise DemoFailed(f"the broadcast was refused: {status} {ack}")
        await self.slack.wait_for(lambda s: len(self.world.emulators.talkntalk.deliveries) >= 8)
        await self.world.idle()

    def _message_with(self, action_id: str) -> Any:
        for message in self.slack.messages.get(INCIDENTS, []):
            if self._button_value(message.blocks, action_id) is not None:
                return message
        return None

    @staticmethod
    def _button_value(blocks: list[dict[str, Any]], action_id: str) -> str | None:
        for block in blocks:
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("action_id") == action_id:
                    return str(element.get("value"))
        return None

    def phones(self) -> None:
        self.say("\nWhat the phones received (numbers masked as in logs):")
        emulators = self.world.emulators
        for delivery in emulators.talkntalk.deliveries:
            body = delivery.payload if isinstance(delivery.payload, dict) else {}
            address = delivery.recipient
            group = address.endswith("@g.us")
            who = address if group else mask_address("+" + address.lstrip("+"))
            kind = "WhatsApp group" if group else "SMS"
            first, *more = str(body.get("message", "")).splitlines() or [""]
            self.say(f"  {kind:<15} {who:<26} {first}")
            for line in more:  # a page's ack line and link, under its text
                self.say(f"  {'':<15} {'':<26} {line}")


async def run_demo(out: TextIO = sys.stdout) -> int:
    clock = SkipClock()
    options = RuntimeOptions(
        retry=RetryPolicy(base_delay=0.05), report_interval=0.2, clock=clock, page_tick=0.1
    )
    with tempfile.TemporaryDirectory(prefix="bridge-demo-") as workdir:
        world = await start_world(
            Path(workdir),
            SANDBOX_CONFIG + PAGING_CONFIG,
            options=options,
            usergroups={"S0SRE1234": [BOB]},
            own_public_url=True,
        )
        demo = Demo(world, out)
        try:
            for emulator in (world.emulators.talkntalk, world.emulators.autokonnect):
                emulator.latency = 0.05
            demo.say("chatops-bridge demo: a loopback Slack and provider emulators, no accounts.\n")
            await demo.slash_send()
            await demo.modal_with_retry()
            await demo.broadcast()
            await PageFlow(world, clock, demo.say, DemoFailed).run(demo.alice, INCIDENTS)
            demo.say("\nThe #ops-incidents channel, as alice sees it:\n")
            demo.say(render_channel(demo.slack, INCIDENTS, viewer=ALICE))
            demo.phones()
            sent = len(world.emulators.talkntalk.deliveries)
            if sent != 10:
                raise DemoFailed(f"expected 10 messages at TalkNTalk, counted {sent}")
            demo.say("\nDemo finished: every flow ended as expected.")
            return 0
        except (DemoFailed, TimeoutError) as exc:
            demo.say(f"\nDemo FAILED: {exc or 'a step timed out'}")
            return 1
        finally:
            await world.close()
