"""A person in the sandbox drives a real slack-bolt AsyncApp end to end, over loopback only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from bridge_sandbox.emulators.common import RunningServer, serve
from bridge_sandbox.slack import SlackSandbox, SlackUser, send_to_app, start_slack_sandbox
from bridge_sandbox.slack.transcript import render_channel
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fixtures import slack_payload

SECRET = "sandbox-signing-secret"
MODAL = slack_payload("views_open_modal.json")
RESULT_BLOCKS = slack_payload("block_actions_message_button.json")["message"]["blocks"]


def bolt_app(sandbox: SlackSandbox, modal: dict[str, Any]) -> AsyncApp:
    """A tiny app in the shape the bridge takes: ack first, work after."""
    client = AsyncWebClient(token=sandbox.state.bot_token, base_url=sandbox.api_url)
    app = AsyncApp(signing_secret=SECRET, client=client)

    @app.command("/send")
    async def send(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        if body["text"] == "list":
            await ack(text="You may use: oncall-sms")
            return
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view("broadcast_submit")
    async def submit(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        text = view["state"]["values"].get("message", {}).get("message_text", {}).get("value")
        if not text:
            await ack(response_action="errors", errors={"message": "Message is empty"})
            return
        await ack()
        meta = json.loads(view["private_metadata"])
        await client.chat_postMessage(
            channel=meta["channel_id"],
            thread_ts=meta["thread_ts"],
            text="Broadcast #42 to oncall-payments: 2 delivered, 1 failed",
            blocks=RESULT_BLOCKS,
        )

    @app.action("retry_failed")
    async def retry(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(replace_original=True, text="Retrying 1 failed recipient")

    return app


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    sb = await start_slack_sandbox()
    yield sb
    await sb.close()


@pytest.fixture
def modal() -> dict[str, Any]:
    return dict(MODAL)


@pytest.fixture
async def app_server(sandbox: SlackSandbox, modal: dict[str, Any]) -> AsyncIterator[RunningServer]:
    server = await serve(bolt_app(sandbox, modal).web_app())
    yield server
    await server.close()


async def test_a_slash_command_opens_the_modal_and_a_submission_posts_the_result(
    sandbox: SlackSandbox, app_server: RunningServer, modal: dict[str, Any]
) -> None:
    state = sandbox.state
    root = state.post("C0INCIDENT", "Checkout error rate is 30%", user="U0CAROL003")
    modal["private_metadata"] = json.dumps({"channel_id": "C0INCIDENT", "thread_ts": root.ts})
    alice = SlackUser(state, app_server.url, SECRET)

    assert await alice.slash("/send") == (200, None)
    view = await state.wait_for(lambda s: s.last_view())
    assert view["callback_id"] == "broadcast_submit"

    status, ack = await alice.submit(view["id"], {"destination": "oncall-payments"})
    assert (status, ack["response_action"]) == (200, "errors")
    assert state.view_errors[view["id"]] == {"message": "Message is empty"}

    await alice.submit(view["id"], {"message": "P1 card auth failing", "confirm": ["yes"]})
    assert view["id"] in state.closed_views
    result = await state.wait_for_message("C0INCIDENT", "2 delivered")
    assert result.thread_ts == root.ts

    await alice.click(result.ts, "retry_failed")
    await state.wait_for(lambda s: s.responses)
    assert result.text == "Retrying 1 failed recipient"
    assert "Retrying 1 failed recipient" in render_channel(state, "C0INCIDENT")


async def test_an_ack_with_text_comes_back_in_the_http_response(
    sandbox: SlackSandbox, app_server: RunningServer
) -> None:
    alice = SlackUser(sandbox.state, app_server.url, SECRET)
    status, body = await alice.slash("/send", "list")
    assert status == 200
    assert body == "You may use: oncall-sms"  # bolt answers a text-only ack as text/plain
    assert sandbox.state.ephemerals[0].text == "You may use: oncall-sms"
    assert "(only visible to you" in render_channel(sandbox.state, "C0INCIDENT")
    assert "secret" not in repr(alice)


async def test_a_wrong_secret_or_a_stale_timestamp_is_refused_with_401(
    sandbox: SlackSandbox, app_server: RunningServer
) -> None:
    from bridge_sandbox.slack import payloads

    body = payloads.slash_command(sandbox.state, "/send", "list")
    assert (await send_to_app(app_server.url, body, "wrong-secret"))[0] == 401
    stale = (await send_to_app(app_server.url, body, SECRET, timestamp=1531420618))[0]
    assert stale == 401


async def test_retry_headers_are_sent_when_asked(sandbox: SlackSandbox) -> None:
    seen: list[dict[str, str]] = []

    async def events(request: web.Request) -> web.Response:
        raw = await request.read()
        assert SignatureVerifier(SECRET).is_valid_request(raw, dict(request.headers))
        seen.append(dict(request.headers))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    server = await serve(app)
    try:
        status, body = await send_to_app(server.url, b"command=%2Fsend", SECRET, retry_num=2)
    finally:
        await server.close()
    assert (status, body) == (200, {"ok": True})
    assert seen[0]["X-Slack-Retry-Num"] == "2"
    assert seen[0]["X-Slack-Retry-Reason"] == "http_timeout"
