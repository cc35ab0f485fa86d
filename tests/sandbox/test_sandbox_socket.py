"""The sandbox Slack's Socket Mode: apps.connections.open, the WebSocket, envelopes and acks.

Frames are checked against tests/fixtures/slack-payloads/socket_mode_envelopes.json and
socket_mode_ack_examples.json; the last test drives the sandbox with slack_sdk's own client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.slack import SlackSandbox, payloads, start_slack_sandbox
from bridge_sandbox.slack.socket_mode import envelope_payload
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fixtures import slack_payload


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    running = await start_slack_sandbox()
    try:
        yield running
    finally:
        await running.close()


async def open_connection(sandbox: SlackSandbox, token: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            sandbox.api_url + "apps.connections.open",
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status == 200  # Slack answers errors with 200 and ok: false
        body: dict[str, Any] = await response.json()
        return body


async def test_connections_open_with_the_app_token_returns_a_loopback_websocket_url(
    sandbox: SlackSandbox,
) -> None:
    body = await open_connection(sandbox, sandbox.state.app_token)
    assert body["ok"] is True
    port = sandbox.url.rsplit(":", 1)[1]
    assert body["url"].startswith(f"ws://127.0.0.1:{port}/socket?ticket=")
    assert sandbox.state.calls_to("apps.connections.open")[0].error is None


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("xoxb-sandbox-0000000000-token", "not_allowed_token_type"),  # the bot token
        ("xapp-1-A0CHATOPS1-0000000000-revoked", "invalid_auth"),
        ("nonsense", "invalid_auth"),
    ],
)
async def test_connections_open_refuses_anything_but_the_app_token(
    sandbox: SlackSandbox, token: str, error: str
) -> None:
    assert await open_connection(sandbox, token) == {"ok": False, "error": error}


async def test_the_app_token_cannot_post_messages(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token=sandbox.state.app_token, base_url=sandbox.api_url)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0INCIDENT", text="x")
    assert raised.value.response["error"] == "not_allowed_token_type"


async def test_socket_says_hello_relays_envelopes_and_records_acks(sandbox: SlackSandbox) -> None:
    state = sandbox.state
    url = (await open_connection(sandbox, state.app_token))["url"]
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello"
        assert hello["connection_info"] == {"app_id": state.app_id}
        [reference] = slack_payload("socket_mode_envelopes.json")[:1]
        envelope_id = await state.socket_send("slash_commands", reference["payload"])
        frame = await ws.receive_json(timeout=10)
        assert set(frame) == set(reference) - {"retry_attempt", "retry_reason"}
        assert frame["envelope_id"] == envelope_id
        assert (frame["type"], frame["accepts_response_payload"]) == ("slash_commands", True)
        assert frame["payload"] == reference["payload"]
        # socket_mode_ack_examples.json: {"envelope_id": ..., "payload": {...}}
        ack_payload = {"response_type": "ephemeral", "text": "Queued broadcast #42"}
        await ws.send_json({"envelope_id": envelope_id, "payload": ack_payload})
        await ws.send_str("not json")
        ack = await state.socket.wait_ack(envelope_id)
        assert ack.payload == ack_payload
        assert ack.latency is not None
        assert ack.latency >= 0  # measured from the push; its size depends on the machine
        await state.wait_for(lambda s: s.socket.stray)
        assert state.socket.stray == ["not json"]


async def test_a_websocket_url_works_once(sandbox: SlackSandbox) -> None:
    url = (await open_connection(sandbox, sandbox.state.app_token))["url"]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
            await http.ws_connect(url)
        assert raised.value.status == 401


async def test_push_without_a_connection_times_out(sandbox: SlackSandbox) -> None:
    with pytest.raises(TimeoutError, match="no Socket Mode connection"):
        await sandbox.state.socket_send("interactive", {"type": "shortcut"}, timeout=0.05)


def test_http_payload_builders_convert_to_envelope_payloads(sandbox: SlackSandbox) -> None:
    reference = slack_payload("socket_mode_envelopes.json")
    state = sandbox.state
    slash = envelope_payload(payloads.slash_command(state, "/send", "list"))
    assert set(slash) == set(reference[0]["payload"])
    assert slash["text"] == "list"
    shortcut = envelope_payload(payloads.global_shortcut(state, "oncall_broadcast"))
    assert set(shortcut) == set(reference[1]["payload"])
    assert shortcut["trigger_id"] in state.triggers


async def test_slack_sdk_client_connects_acks_and_reconnects_on_disconnect(
    sandbox: SlackSandbox,
) -> None:
    state = sandbox.state
    web = AsyncWebClient(token=state.bot_token, base_url=sandbox.api_url)
    client = SocketModeClient(state.app_token, web_client=web, ping_interval=0.2)

    async def on_request(client: SocketModeClient, request: SocketModeRequest) -> None:
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload={"seen": request.type})
        )

    client.socket_mode_request_listeners.append(on_request)  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(client.connect(), 5)  # type: ignore[no-untyped-call]
        first = await state.socket_send("interactive", {"type": "shortcut"})
        assert (await state.socket.wait_ack(first)).payload == {"seen": "interactive"}
        await state.socket.disconnect()  # Slack: {"type": "disconnect", "reason": ...}
        await state.wait_for(lambda s: s.socket.opened == 2 and len(s.socket.connections) == 1)
        assert len(state.calls_to("apps.connections.open")) == 2  # a fresh URL for the new socket
        second = await state.socket_send("slash_commands", {"command": "/send", "text": ""})
        assert (await state.socket.wait_ack(second)).payload == {"seen": "slash_commands"}
    finally:
        await client.close()  # type: ignore[no-untyped-call]
