"""`serve` (HTTP) and `socket` (Socket Mode) entry points; both also serve webhooks and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.server.env import BridgeEnv, EnvError
from bot.server.limits import HttpLimits, listen, runner_for
from bot.server.probes import build_ops_app
from bot.server.slack_auth import SlackAuth, SlackCheck, why_unanswered
from bot.server.slot import RuntimeSlot
from bot.server.web import SLOT, build_web_app
from bot.slack import shapes
from config import Settings

log = logging.getLogger(__name__)


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM and SIGINT set the event: every wait of a start-up or a run races it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[object]) -> bool:
    """Await ``work`` unless ``stop`` comes first (then ``work`` is cancelled): did it finish?"""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        task.result()  # its error, if any, is the caller's
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


async def _listen(
    runner: web.AppRunner, limits: HttpLimits, host: str | None, port: int, variable: str
) -> asyncio.Server:
    """Bind within ``limits`` (at most so many connections; see bot/server/limits.py), or say
    in one line which settings name an address that cannot be had (``variable`` is PORT or
    METRICS_PORT; their hosts are HOST and METRICS_HOST). Close it before ``runner.cleanup()``."""
    try:
        server, _ = await listen(runner, limits, host=host, port=port)
    except OSError as exc:
        where = f"{host or 'every interface'} port {port}"
        raise EnvError(
            f"cannot listen on {where} ({exc.strerror or exc}): check {variable} and "
            f"{variable.replace('PORT', 'HOST')}"
        ) from None
    return server


@contextlib.asynccontextmanager
async def _ops_port(env: BridgeEnv, slot: RuntimeSlot) -> AsyncIterator[None]:
    """METRICS_PORT, when set: /metrics and the probes there, from before the runtime opens
    until after it closes (so the probes say "starting" and "stopping" too)."""
    if env.metrics_port is None:
        yield
        return
    runner = runner_for(build_ops_app(slot), env.limits)
    await runner.setup()
    server: asyncio.Server | None = None
    try:
        server = await _listen(
            runner, env.limits, env.metrics_host, env.metrics_port, "METRICS_PORT"
        )
        yield
    finally:
        if server is not None:
            server.close()
        await runner.cleanup()


async def run_http(settings: Settings, env: BridgeEnv) -> None:
    """HTTP mode: Slack posts to /slack/events; refuses to start without the signing secret.

    SIGTERM and SIGINT stop it gracefully: the port closes, then acked work records its requests.
    """
    env.require_http()
    stop = _stop_on_signals()
    app = build_web_app(settings, env)
    async with _ops_port(env, app[SLOT]):
        runner = runner_for(app, env.limits)  # slow clients are cut, connections capped
        await runner.setup()
        server: asyncio.Server | None = None
        try:
            server = await _listen(runner, env.limits, env.host, env.port, "PORT")
            log.info(
                "listening",
                extra={"host": env.host or "*", "port": env.port, "config": str(settings.source)},
            )
            await stop.wait()
        finally:
            if server is not None:
                server.close()
            await runner.cleanup()


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


async def _socket_url_when_slack_answers(
    handler: CheckedSocketModeHandler, auth: SlackAuth, check: SlackCheck, stop: asyncio.Event
) -> bool:
    """The first WebSocket URL, once Slack has accepted the bot token; while Slack cannot be
    reached, asked again with a doubling wait (one warning, no traceback). False if stopped."""
    wait = check.retry_first
    warned = False
    while await _unless_stopped(stop, auth.ok.wait()):
        try:
            return await _unless_stopped(stop, _first_socket_url(handler))
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            if not warned:
                why = why_unanswered(exc)
                log.warning("Slack's Socket Mode cannot be reached (%s): trying again", why)
                warned = True
        if not await _unless_stopped(stop, check.sleep(wait)):
            return False
        wait = min(wait * 2, check.retry_cap)
    return False


async def run_socket(settings: Settings, env: BridgeEnv) -> None:
    """Socket Mode: events arrive over a WebSocket; webhooks and metrics still served on PORT.

    SIGTERM and SIGINT stop it gracefully, as ``serve`` stops, and promptly at any point of the
    start: the socket closes first (no new events), then the runtime lets acked work record its
    requests.
    """
    env.require_socket()
    assert env.slack_app_token is not None
    stop = _stop_on_signals()
    app = build_web_app(settings, env, slack_http=False)
    async with _ops_port(env, app[SLOT]):
        runner = runner_for(app, env.limits)
        await runner.setup()
        handler: CheckedSocketModeHandler | None = None
        server: asyncio.Server | None = None
        try:
            server = await _listen(runner, env.limits, env.host, env.port, "PORT")
            runtime = app[SLOT].runtime
            assert runtime is not None
            handler = CheckedSocketModeHandler(runtime.app, env.slack_app_token)
            log.info("socket mode connecting", extra={"port": env.port})
            check = SlackCheck()
            if await _socket_url_when_slack_answers(handler, runtime.slack_auth, check, stop):
                connecting = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
                await stop.wait()
                connecting.cancel()
            log.info("socket mode stopping")
        finally:
            if handler is not None:
                await handler.close_async()  # type: ignore[no-untyped-call]
            if server is not None:
                server.close()
            await runner.cleanup()
