"""The HTTP face of the bridge: /slack/events, /webhooks/{provider}, /healthz, /metrics.

The runtime (store, one ClientSession per provider account, the Slack app) is opened and closed
with the aiohttp app through ``cleanup_ctx``, so nothing outlives the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot import metrics, receipts
from bot.env import BridgeEnv
from bot.runtime import Runtime, RuntimeOptions, open_runtime
from config import Settings


@dataclass
class RuntimeSlot:
    """Filled by cleanup_ctx once the runtime is open (an app's state is frozen by then)."""

    runtime: Runtime | None = None


SLOT = web.AppKey("runtime_slot", RuntimeSlot)


def runtime_of(request: web.Request) -> Runtime:
    runtime = request.app[SLOT].runtime
    if runtime is None:
        raise web.HTTPServiceUnavailable(text="the bridge is starting")
    return runtime


async def slack_events(request: web.Request) -> web.Response:
    """Hand the raw request to bolt, which checks the signature and acks within 3 s."""
    runtime = runtime_of(request)
    bolt_request = await to_bolt_request(request)
    bolt_response = await runtime.app.async_dispatch(bolt_request)
    return await to_aiohttp_response(bolt_response)


async def webhook(request: web.Request) -> web.Response:
    """A provider account's delivery receipt, authenticated with that account's secret."""
    runtime = runtime_of(request)
    body = await request.read()
    return await receipts.receive(
        runtime.settings,
        runtime.store,
        runtime.service,
        request.match_info["provider"],
        request.headers,
        body,
    )


async def healthz(request: web.Request) -> web.Response:
    runtime = runtime_of(request)
    return web.json_response(
        {
            "ok": True,
            "config": str(runtime.settings.source),
            "channels": len(runtime.settings.channels),
            "providers": sorted(runtime.accounts),
            "store": {"kind": runtime.store.kind, "reachable": await runtime.store.ping()},
        }
    )


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(metrics.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_web_app(
    settings: Settings,
    env: BridgeEnv,
    options: RuntimeOptions | None = None,
    *,
    slack_http: bool = True,
    on_ready: Callable[[Runtime], None] | None = None,
) -> web.Application:
    """The server app. ``slack_http=False`` (Socket Mode) leaves /slack/events out entirely."""
    app = web.Application()
    app[SLOT] = RuntimeSlot()

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_runtime(settings, env, options) as runtime:
            app[SLOT].runtime = runtime
            if on_ready is not None:
                on_ready(runtime)
            yield
            app[SLOT].runtime = None

    app.cleanup_ctx.append(runtime_ctx)
    if slack_http:
        app.router.add_post("/slack/events", slack_events)
    app.router.add_post("/webhooks/{provider}", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    return app
