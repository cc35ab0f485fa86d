"""What reaches the listeners: every signed slash text is read as form fields, and nothing that
fails verification is acted on (issue 7, section 2)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from bridge_sandbox.emulators.common import serve
from bridge_sandbox.slack import payloads
from bridge_sandbox.slack.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bridge_sandbox.world import SIGNING_SECRET

from tests.bot.bridge_kit import ALICE, INCIDENTS, Bridge
from tests.bot.slack_steps import nothing_sent, slash

# Texts that bolt's own body parser mistook for an interactivity form ("payload" anywhere in the
# body) or for JSON, so the command was never dispatched and Slack showed dispatch_failed.
ODD_TEXTS = ["db payload too big", "payload=x", "payload", "{json", "a&b=c", "oncall-sms payload"]


@pytest.mark.parametrize("text", ODD_TEXTS)
async def test_a_slash_text_that_looks_like_another_format_reaches_the_listener(
    bridge: Bridge, text: str
) -> None:
    reply = await slash(bridge, text)
    assert reply.text  # the listener answered: no dispatch_failed


async def test_a_slash_text_mentioning_payload_is_sent(bridge: Bridge) -> None:
    reply = await slash(bridge, "oncall-sms db payload too big")
    assert reply.text.startswith("Queued R")


class Hook:
    """A loopback response_url: records every POST it gets."""

    def __init__(self) -> None:
        self.posts: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append(await request.read())
        return web.Response(text="ok")


@pytest.fixture
async def hook() -> AsyncIterator[tuple[Hook, str]]:
    recorder = Hook()
    app = web.Application()
    app.router.add_post("/hook", recorder.handle)
    server = await serve(app)
    try:
        yield recorder, server.url + "/hook"
    finally:
        await server.close()


def _forged_body(response_url: str) -> bytes:
    return urlencode(
        {
            "command": "/send",
            "text": "oncall-sms Disk full",
            "user_id": "U0ALICE001\nFAKE log line",
            "channel_id": INCIDENTS,
            "trigger_id": "1.2.3",
            "response_url": response_url,
        }
    ).encode()


def _headers_variants(body: bytes) -> list[dict[str, str]]:
    now = int(time.time())
    good = sign(SIGNING_SECRET, body, now)
    sig = good[SIGNATURE_HEADER]
    return [
        {TIMESTAMP_HEADER: "not-a-number", SIGNATURE_HEADER: sig},
        {TIMESTAMP_HEADER: "", SIGNATURE_HEADER: sig},
        {TIMESTAMP_HEADER: f"+{now}", SIGNATURE_HEADER: sig},
        {TIMESTAMP_HEADER: f"{now}_", SIGNATURE_HEADER: sig},
        {TIMESTAMP_HEADER: f"{now}.0", SIGNATURE_HEADER: sig},
        {TIMESTAMP_HEADER: "9" * 5000, SIGNATURE_HEADER: sig},
        {SIGNATURE_HEADER: sig},
        {TIMESTAMP_HEADER: str(now)},
        {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: ""},
        {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: "v0=" + "0" * 64},
        {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: sig.upper()},
        {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: sig[:-1] + "é"},
        {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: "v0=ä" + sig[4:]},
        {TIMESTAMP_HEADER: "١٢٣", SIGNATURE_HEADER: sig},
        sign(SIGNING_SECRET, body, now - 301),
        sign(SIGNING_SECRET, body, now + 301),
        sign("another-secret", body, now),
    ]


async def test_nothing_unverified_is_acted_on(bridge: Bridge, hook: tuple[Hook, str]) -> None:
    recorder, url = hook
    body = _forged_body(url)
    calls_before = len(bridge.slack.calls)
    async with aiohttp.ClientSession() as http:
        for headers in _headers_variants(body):
            async with http.post(
                bridge.world.events_url,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
            ) as response:
                assert response.status == 401, headers
                assert "signature" in (await response.text()).lower(), headers
    await nothing_sent(bridge)
    assert recorder.posts == []
    assert bridge.slack.calls[calls_before:] == []
    assert bridge.slack.responses == []


async def test_an_unverified_interaction_is_refused_too(
    bridge: Bridge, hook: tuple[Hook, str]
) -> None:
    recorder, _ = hook
    body = payloads.global_shortcut(bridge.slack, "oncall_broadcast", user=ALICE)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            bridge.world.events_url,
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                TIMESTAMP_HEADER: "soon",
                SIGNATURE_HEADER: "v0=00",
            },
        ) as response,
    ):
        assert response.status == 401
    await nothing_sent(bridge)
    assert recorder.posts == []
    assert bridge.slack.calls_to("views.open") == []


async def test_a_body_that_is_not_utf8_is_refused_unless_signed(bridge: Bridge) -> None:
    body = b"\xff\xfepayload=\xc3"
    async with aiohttp.ClientSession() as http:
        forged = {TIMESTAMP_HEADER: str(int(time.time())), SIGNATURE_HEADER: "v0=" + "0" * 64}
        async with http.post(bridge.world.events_url, data=body, headers=forged) as response:
            assert response.status == 401
        signed = sign(SIGNING_SECRET, body)
        async with http.post(bridge.world.events_url, data=body, headers=signed) as response:
            assert response.status == 200  # Slack's, but nothing to act on
    await nothing_sent(bridge)
