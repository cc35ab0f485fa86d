"""The HTTP face of the bridge: /slack/events, /webhooks/{provider}, /alerts/…, the probes,
/metrics.

The runtime (store, one ClientSession per provider account, the Slack app) is opened and closed
with the aiohttp app through ``cleanup_ctx``, so nothing outlives the server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from slack_bolt.adapter.aiohttp import to_aiohttp_response

from bot import receipts
from bot.alerts import web as alerts_web
from bot.paging import web as paging_web
from bot.server.bodies import BODY_BUDGET, BodyBudget, read_bodies
from bot.server.env import BridgeEnv
from bot.server.limits import name_server
from bot.server.probes import add_probes, metrics_endpoint
from bot.server.runtime import Runtime, RuntimeOptions, open_runtime
from bot.server.slot import SLOT, RuntimeSlot, runtime_of
from bot.slack import ingress, shapes
from config import Settings

log = logging.getLogger(__name__)


__all__ = ["SLOT", "RuntimeSlot", "build_web_app", "runtime_of"]


async def slack_events(request: web.Request) -> web.Response:
    """Verify (401 before anything reads the body), read it by its form keys, hand it to bolt."""
    runtime = runtime_of(request)
    raw = await request.read()  # bounded by aiohttp's client_max_size (1 MiB)
    secret = runtime.env.slack_signing_secret or ""
    try:
        ingress.verify(secret, request.headers, raw)
    except ingress.Unverified as exc:
        log.info("refused an unverified Slack request", extra={"why": str(exc)})
        return web.Response(status=401, text=f"invalid request signature: {exc}")
    try:
        body = ingress.read_body(raw, request.content_type)
    except ingress.Unreadable as exc:
        # Signed by Slack yet unreadable: nothing to act on; a 200 so Slack does not retry it.
        log.warning("ignored a signed Slack request", extra={"why": str(exc)})
        return web.Response(status=200)
    if shapes.refuse(body):
        return web.Response(status=200)
    bolt_request = ingress.bolt_request(raw, body, request.headers, request.query_string)
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
        also=runtime.paging.statuses_changed,
    )


class MalformedHttp(logging.Filter):
    """aiohttp answers a client's malformed HTTP (a NUL in a header…) with 400 yet logs it at
    ERROR with a traceback: one line is enough, and a traceback per request floods the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            first = (str(exc.message).strip().splitlines() or [""])[0]
            record.msg, record.args = "refused a malformed HTTP request (%s): %s", (exc.code, first)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


MALFORMED_HTTP = MalformedHttp()


def build_web_app(
    settings: Settings,
    env: BridgeEnv,
    options: RuntimeOptions | None = None,
    *,
    slack_http: bool = True,
    on_ready: Callable[[Runtime], None] | None = None,
) -> web.Application:
    """The server app. ``slack_http=False`` (Socket Mode) leaves /slack/events out entirely;
    with METRICS_PORT set, /metrics is left to the app ``probes.build_ops_app`` makes."""
    logging.getLogger("aiohttp.server").addFilter(MALFORMED_HTTP)  # added once, however often
    # Every body is read within its deadline and the body budget (one per process, as is this
    # app) before a handler runs; no response names aiohttp.
    budget = BodyBudget(env.limits.body_budget)
    app = web.Application(middlewares=[read_bodies(env.limits, budget)])
    app[BODY_BUDGET] = budget
    app.on_response_prepare.append(name_server)
    app[SLOT] = RuntimeSlot()

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_runtime(settings, env, options) as runtime:
            app[SLOT].runtime = runtime
            if on_ready is not None:
                on_ready(runtime)
            yield
            app[SLOT].runtime = None

    async def stopping(app: web.Application) -> None:
        app[SLOT].stopping = True  # readiness 503 while acked work drains

    app.cleanup_ctx.append(runtime_ctx)
    app.on_shutdown.append(stopping)
    if slack_http:
        app.router.add_post("/slack/events", slack_events)
    app.router.add_post("/webhooks/{provider}", webhook)
    add_probes(app)
    if env.metrics_port is None:
        app.router.add_get("/metrics", metrics_endpoint)
    paging_web.add_routes(app, runtime_of)
    alerts_web.add_routes(app, runtime_of)  # after the runtime's context: it opens inside it
    return app
