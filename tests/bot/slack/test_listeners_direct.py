"""A listener is a plain module-level function: a test calls it directly with bolt's own ack,
respond and context (the app's ``Deps`` in ``context["deps"]``), as bolt's sample apps test
theirs."""

from __future__ import annotations

from urllib.parse import parse_qsl

from bridge_sandbox.slack.payloads import slash_command
from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from bot.slack.deps import Deps
from bot.slack.listeners import commands
from tests.bot.bridge_kit import ALICE, INCIDENTS, Bridge
from tests.bot.slack_steps import ephemeral_after, nothing_sent


async def test_the_send_command_listener_is_callable_directly(bridge: Bridge) -> None:
    runtime = bridge.runtime
    raw = slash_command(bridge.slack, "/send", "help", user=ALICE, channel=INCIDENTS)
    body = dict(parse_qsl(raw.decode()))
    ack = AsyncAck()  # type: ignore[no-untyped-call]  # slack_bolt leaves __init__ unannotated
    context = AsyncBoltContext({"deps": Deps(settings=runtime.settings, service=runtime.service)})
    before = len(bridge.slack.ephemerals)

    await commands.on_send(
        ack=ack,
        body=body,
        respond=AsyncRespond(response_url=body["response_url"]),
        client=runtime.client,
        context=context,
    )

    assert ack.response is not None
    assert ack.response.status == 200
    reply = await ephemeral_after(bridge, before)
    assert "`oncall-sms`" in reply.text + repr(reply.blocks)
    await nothing_sent(bridge)
