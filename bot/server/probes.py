"""Liveness (/livez), readiness (/readyz) and /healthz: what a load balancer and an orchestrator
need to know, and nothing an outsider should learn (no config path, account names or replica id).

Why two probes: a replica whose store or Slack does not answer must stop getting Slack's requests
(readiness), but restarting it would not cure either (liveness stays 200 while the loop turns).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import metrics
from bot.server.limits import name_server
from bot.server.slot import SLOT, RuntimeSlot

STORE_WAIT = 3.0  # seconds a probe waits for the store's answer (probes time out at ~5 s)


async def readiness(slot: RuntimeSlot) -> tuple[bool, dict[str, Any]]:
    """Ready when the runtime is open, the store answers and Slack has accepted the bot token."""
    runtime = slot.runtime
    if runtime is None or slot.stopping:
        return False, {"runtime": slot.phase}
    try:
        store_ok = await asyncio.wait_for(runtime.store.ping(), STORE_WAIT)
    except TimeoutError:
        store_ok = False
    checks = {
        "runtime": "open",
        "store": "ok" if store_ok else "unreachable",
        "slack": runtime.slack_auth.state,
    }
    return store_ok and runtime.slack_auth.state == "ok", checks


async def livez(request: web.Request) -> web.Response:
    """Answering at all shows the process is up and its event loop turns."""
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    ready, checks = await readiness(request.app[SLOT])
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


async def healthz(request: web.Request) -> web.Response:
    """README, Operations (`/healthz`): liveness and config loaded (200 while it serves), with the
    readiness checks and the store's kind for a person reading it; load balancers use /readyz."""
    slot = request.app[SLOT]
    ready, checks = await readiness(slot)
    body: dict[str, Any] = {"ok": True, "config": "loaded", "ready": ready, "checks": checks}
    if slot.runtime is not None:
        body["store"] = {"kind": slot.runtime.store.kind, "reachable": checks["store"] == "ok"}
    return web.json_response(body)


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(metrics.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_probes(app: web.Application) -> None:
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/healthz", healthz)


def build_ops_app(slot: RuntimeSlot) -> web.Application:
    """What METRICS_PORT serves: /metrics and the probes, reading the main app's runtime slot.
    It starts before the runtime opens and stops after it closes, so probes answer throughout."""
    app = web.Application()
    app.on_response_prepare.append(name_server)  # no response names aiohttp and its version
    app[SLOT] = slot
    app.router.add_get("/metrics", metrics_endpoint)
    add_probes(app)
    return app
