"""`serve` (HTTP) and `socket` (Socket Mode) entry points; both also serve webhooks and metrics."""

from __future__ import annotations

import asyncio
import logging
import signal

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.server.env import BridgeEnv, EnvError
from bot.server.limits import start_http
from bot.server.web import SLOT, build_web_app
from bot.slack import shapes
from config import Settings

log = logging.getLogger(__name__)


def run_http(settings: Settings, env: BridgeEnv) -> None:
    """HTTP mode: Slack posts to /slack/events; refuses to start without the signing secret."""
    env.require_http()
    asyncio.run(_serve_http(settings, env))


def _stop_on_signals() -> asyncio.Event:
    """Set on SIGTERM or SIGINT: both modes then stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _serve_http(settings: Settings, env: BridgeEnv) -> None:
    """Serves within ``env.limits`` (slow clients are cut, connections capped) until a signal."""
    stop = _stop_on_signals()
    server = await start_http(build_web_app(settings, env), env.limits, port=env.port)
    log.info("listening", extra={"port": env.port, "config": str(settings.source)})
    try:
        await stop.wait()
    finally:
        await server.close()


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's handler, but an envelope the listeners cannot read is acked empty and logged in one
    line (as /slack/events answers 200) instead of raising inside bolt."""

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        assert isinstance(client, SocketModeClient)  # the client this handler made
        payload = req.payload if isinstance(req.payload, dict) else {}
        if shapes.refuse(payload):
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)


# apps.connections.open errors that no retry can cure: the app token itself is wrong.
_BAD_APP_TOKEN = {"invalid_auth", "not_allowed_token_type", "not_authed", "token_revoked"}


async def _first_socket_url(handler: CheckedSocketModeHandler) -> None:
    """Ask for the WebSocket URL once before connecting, so a wrong app token stops the start
    with a clear error (slack_sdk would otherwise retry it forever while /healthz says ok)."""
    try:
        handler.client.wss_uri = await handler.client.issue_new_wss_url()
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in _BAD_APP_TOKEN:
            raise EnvError(
                f"Slack refused SLACK_APP_TOKEN ({error}). Use an app-level token (xapp-…) with "
                "the connections:write scope, from the app's Basic Information page."
            ) from None
        raise


async def run_socket(settings: Settings, env: BridgeEnv) -> None:
    """Socket Mode: events arrive over a WebSocket; webhooks and metrics still served on PORT.

    SIGTERM and SIGINT stop it gracefully, as ``serve`` stops: the socket closes first (no new
    events), then the runtime lets acked work record its requests.
    """
    env.require_socket()
    assert env.slack_app_token is not None
    stop = _stop_on_signals()
    app = build_web_app(settings, env, slack_http=False)
    server = await start_http(app, env.limits, port=env.port)
    handler: CheckedSocketModeHandler | None = None
    try:
        runtime = app[SLOT].runtime
        assert runtime is not None
        handler = CheckedSocketModeHandler(runtime.app, env.slack_app_token)
        log.info("socket mode connecting", extra={"port": env.port})
        await _first_socket_url(handler)
        connecting = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
        await stop.wait()
        connecting.cancel()
        log.info("socket mode stopping")
    finally:
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        await server.close()
