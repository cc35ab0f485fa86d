"""``POST /alerts/<integration>`` (Alertmanager, Grafana), ``POST /alerts/v2/enqueue``
(Events API v2) and ``POST /heartbeat/<name>``: authenticate, read, record, answer.

Why every key is compared on every request: a wrong key must get the same answer, in the same
time, whether or not the integration it names exists, or the endpoint would tell a stranger
which names are real. ``hmac.compare_digest`` runs against each integration's key and the loop
never stops early. The key is never logged: a refusal logs the path only.

Answers: 202 once the notification is recorded (never before); 400 naming what is malformed;
401 for a missing or wrong key; 413 over 1 MiB (aiohttp's body limit, read before any handler
by the server's body deadline); 503 when the store cannot record it (the source retries).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from bot.alerts import payloads
from bot.alerts.heartbeats import HeartbeatService
from bot.alerts.payloads import BadPayload, Notification
from bot.alerts.service import AlertService
from bot.server.runtime import Runtime
from bot.server.slot import SLOT
from bot.store.base import StoreError
from config.settings import Heartbeat, Integration

log = logging.getLogger(__name__)

UNAUTHORIZED = {
    "status": "unauthorized",
    "message": "missing or wrong key: send the integration's key "
    "(Authorization: Bearer <key>, or routing_key for Events API v2)",
}
HEARTBEAT_UNAUTHORIZED = {
    "status": "unauthorized",
    "message": "missing or wrong key: send the heartbeat's key (Authorization: Bearer <key>)",
}
_NO_KEY = b"\x00" * 32  # compared when the bridge has no integration: the same work either way


@dataclass
class AlertsSlot:
    service: AlertService | None = None
    heartbeats: HeartbeatService | None = None


ALERTS = web.AppKey("alerts_slot", AlertsSlot)


K = TypeVar("K")


def _keyed(items: Iterable[K], given: str, key_of: Callable[[K], str]) -> list[K]:
    """Every item whose key is ``given``, compared in constant time against all of them (no
    early exit; with none, against a dummy key: the same work either way)."""
    provided = given.encode("utf-8", "surrogatepass")
    found: list[K] = []
    compared = False
    for item in items:
        equal = hmac.compare_digest(provided, key_of(item).encode("utf-8"))
        compared = True
        if equal:
            found.append(item)
    if not compared:
        hmac.compare_digest(provided, _NO_KEY)
    return found


def matching(
    integrations: Iterable[Integration], given: str, kinds: tuple[str, ...]
) -> list[Integration]:
    """Every integration whose key is ``given`` (``_keyed``), of one of ``kinds``."""
    return [i for i in _keyed(integrations, given, lambda i: i.key) if i.kind in kinds]


def heartbeat_of(heartbeats: Iterable[Heartbeat], name: str, given: str) -> Heartbeat | None:
    """The heartbeat ``name`` if ``given`` is its key (``_keyed``: every key compared)."""
    return next((b for b in _keyed(heartbeats, given, lambda b: b.key) if b.name == name), None)


def bearer(header: str | None) -> str:
    scheme, _, token = (header or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})


def _bad(message: str) -> web.Response:
    return _json(400, {"status": "invalid event", "message": message, "errors": [message]})


async def _record(
    service: AlertService, integration: Integration, note: Notification
) -> web.Response | None:
    """None once recorded; a 503 if the store refused (the source will send it again)."""
    try:
        await service.notify(integration, note)
    except (StoreError, OSError, TimeoutError) as exc:
        log.warning(
            "could not record an alert for %s (%s); the source will retry",
            integration.name,
            type(exc).__name__,
        )
        return _json(503, {"status": "unavailable", "message": "not recorded: send it again"})
    return None


def add_routes(app: web.Application, runtime_of: Callable[[web.Request], Runtime]) -> None:
    app[ALERTS] = AlertsSlot()

    async def alerts_ctx(app: web.Application) -> AsyncIterator[None]:
        """Opened after the runtime (``cleanup_ctx`` runs in order), closed before it: alert
        follow-ups under way finish while the store and Slack are still open."""
        runtime = app[SLOT].runtime
        assert runtime is not None  # the runtime's context opened before this one
        service = AlertService(
            runtime.settings,
            runtime.store,
            runtime.paging,
            runtime.client,
            runtime.paging.clock,
            update_gap=runtime.alert_update_gap,
        )
        runtime.paging.slack.extras.append(service.page_blocks)
        heartbeats = HeartbeatService(
            runtime.settings, runtime.store, runtime.paging, runtime.paging.clock
        )
        if runtime.settings.heartbeats:  # none: the scheduler's tick stays as it was
            await heartbeats.watch_all()
            runtime.paging.before_tick.append(heartbeats.check_due)
        if runtime.settings.integrations:  # silences end on the clock: the tick looks
            runtime.paging.before_tick.append(service.silence_ends.look)
            if runtime.deps is not None:  # and /send unsilence asks for a look at once
                runtime.deps.silence_ended.append(service.silence_ends.look)
        app[ALERTS].service = service
        app[ALERTS].heartbeats = heartbeats
        yield
        await service.wait_idle()
        await heartbeats.wait_idle()
        app[ALERTS].service = None
        app[ALERTS].heartbeats = None

    def service_of(request: web.Request) -> AlertService:
        runtime_of(request)  # 503 while starting
        service = request.app[ALERTS].service
        if service is None:
            raise web.HTTPServiceUnavailable(text="the bridge is starting")
        return service

    async def group_endpoint(request: web.Request) -> web.Response:
        service = service_of(request)
        name = request.match_info["integration"]
        given = bearer(request.headers.get("Authorization"))
        found = matching(service.settings.integrations.values(), given, ("alertmanager", "grafana"))
        integration = next((i for i in found if i.name == name), None)
        if integration is None:
            log.info("refused an alert with a missing or wrong key", extra={"path": "/alerts/…"})
            return _json(401, UNAUTHORIZED)
        body = await request.read()
        try:
            note = payloads.alert_group(payloads.parse_json(body))
        except BadPayload as exc:
            return _bad(str(exc))
        refused = await _record(service, integration, note)
        return refused or _json(202, {"status": "success", "message": "Alert recorded"})

    async def enqueue(request: web.Request) -> web.Response:
        service = service_of(request)
        body = await request.read()
        try:
            data = payloads.parse_json(body)
            routing_key = (
                data.get("routing_key") if isinstance(data, dict) else None
            )  # checked before the rest: a stranger learns nothing past "wrong key"
            if not isinstance(routing_key, str) or not routing_key:
                raise BadPayload("missing field 'routing_key'")
        except BadPayload as exc:
            return _bad(str(exc))
        found = matching(service.settings.integrations.values(), routing_key, ("events-v2",))
        if not found:
            log.info("refused an Events API v2 event with a wrong routing_key")
            return _json(401, UNAUTHORIZED)
        try:
            _, note = payloads.event(data)
        except BadPayload as exc:
            return _bad(str(exc))
        refused = await _record(service, found[0], note)
        return refused or _json(
            202, {"status": "success", "message": "Event processed", "dedup_key": note.group_key}
        )

    async def heartbeat(request: web.Request) -> web.Response:
        service_of(request)
        heartbeats = request.app[ALERTS].heartbeats
        assert heartbeats is not None  # set with the service
        given = bearer(request.headers.get("Authorization"))
        name = request.match_info["name"]
        beat = heartbeat_of(heartbeats.settings.heartbeats.values(), name, given)
        if beat is None:
            log.info(
                "refused a heartbeat with a missing or wrong key", extra={"path": "/heartbeat/…"}
            )
            return _json(401, HEARTBEAT_UNAUTHORIZED)
        try:
            await heartbeats.ping(beat)
        except (StoreError, OSError, TimeoutError) as exc:
            log.warning("could not record heartbeat %s (%s)", beat.name, type(exc).__name__)
            return _json(503, {"status": "unavailable", "message": "not recorded: ping again"})
        return _json(200, {"status": "success", "message": "Heartbeat recorded"})

    app.cleanup_ctx.append(alerts_ctx)
    app.router.add_post("/alerts/v2/enqueue", enqueue)
    app.router.add_post("/alerts/{integration}", group_endpoint)
    app.router.add_post("/heartbeat/{name}", heartbeat)
