"""`serve` (HTTP) and `socket` (Socket Mode) entry points; both also serve webhooks and metrics."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.env import BridgeEnv
from bot.web import SLOT, build_web_app
from config import Settings

log = logging.getLogger(__name__)


def run_http(settings: Settings, env: BridgeEnv) -> None:
    """HTTP mode: Slack posts to /slack/events; refuses to start without the signing secret."""
    env.require_http()
    app = build_web_app(settings, env)
    log.info("listening", extra={"port": env.port, "config": str(settings.source)})
    web.run_app(app, port=env.port, print=None, access_log=None)


async def run_socket(settings: Settings, env: BridgeEnv) -> None:
    """Socket Mode: events arrive over a WebSocket; webhooks and metrics still served on PORT."""
    env.require_socket()
    assert env.slack_app_token is not None
    app = build_web_app(settings, env, slack_http=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, port=env.port).start()
        runtime = app[SLOT].runtime
        assert runtime is not None
        handler = AsyncSocketModeHandler(runtime.app, env.slack_app_token)
        log.info("socket mode connecting", extra={"port": env.port})
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
