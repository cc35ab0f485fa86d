"""Only Slack's signed, fresh requests are acted on; a redelivered request is acted on once."""

from __future__ import annotations

import time

import aiohttp
from bridge_sandbox.slack import payloads
from bridge_sandbox.slack.signing import sign
from bridge_sandbox.slack.user import send_to_app
from bridge_sandbox.world import SIGNING_SECRET

from bot.slack import ids
from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import deliveries, ephemeral_after, nothing_sent, roots


async def test_wrong_signature_is_refused_and_nothing_is_sent(bridge: Bridge) -> None:
    body = payloads.slash_command(bridge.slack, "/send", "oncall-sms Disk full")
    status, _ = await send_to_app(bridge.world.events_url, body, "not-the-signing-secret")
    assert status == 401
    await nothing_sent(bridge)
    assert bridge.slack.responses == []


async def test_stale_timestamp_is_refused_and_nothing_is_sent(bridge: Bridge) -> None:
    # Slack: "reject when abs(now - timestamp) > 300 s"
    body = payloads.slash_command(bridge.slack, "/send", "oncall-sms Disk full")
    stale = int(time.time()) - 301
    status, _ = await send_to_app(bridge.world.events_url, body, SIGNING_SECRET, timestamp=stale)
    assert status == 401
    await nothing_sent(bridge)


async def test_tampered_body_is_refused(bridge: Bridge) -> None:
    body = payloads.slash_command(bridge.slack, "/send", "oncall-sms Disk full")
    status, _ = await send_to_app(bridge.world.events_url, body, SIGNING_SECRET)
    assert status == 200
    await bridge.slack.wait_for(lambda s: s.ephemerals)
    await bridge.idle()
    sent = len(deliveries(bridge))
    # Same signature headers cannot be reused for another body: sign() covers the raw bytes.
    forged = body.replace(b"Disk+full", b"Disk+gone")
    headers = sign(SIGNING_SECRET, body)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            bridge.world.events_url,
            data=forged,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        ) as response,
    ):
        assert response.status == 401
    await bridge.idle()
    assert len(deliveries(bridge)) == sent


async def test_redelivered_slash_command_is_sent_once(bridge: Bridge) -> None:
    body = payloads.slash_command(bridge.slack, "/send", "oncall-sms Disk full on db-1")
    url = bridge.world.events_url
    status, _ = await send_to_app(url, body, SIGNING_SECRET)
    assert status == 200
    first = await ephemeral_after(bridge, 0)
    assert first.text.startswith("Queued R")
    status, _ = await send_to_app(url, body, SIGNING_SECRET, retry_num=1)
    assert status == 200
    second = await ephemeral_after(bridge, 1)
    request_id = first.text.split()[1]
    assert second.text == f"Already queued as {request_id}; nothing new was sent."
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ["254712345678", "254798765432"]
    assert len(roots(bridge)) == 1


async def test_redelivered_view_submission_is_sent_once(bridge: Bridge) -> None:
    await bridge.user.slash("/send", "")
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    body = payloads.view_submission(bridge.slack, view["id"], {ids.TEXT_BLOCK: "Disk full"})
    url = bridge.world.events_url
    assert (await send_to_app(url, body, SIGNING_SECRET))[0] == 200
    assert (await send_to_app(url, body, SIGNING_SECRET, retry_num=1))[0] == 200
    assert (await send_to_app(url, body, SIGNING_SECRET, retry_num=2))[0] == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) >= 2)
    await bridge.idle()
    assert len(deliveries(bridge)) == 2
    assert len(roots(bridge)) == 1
