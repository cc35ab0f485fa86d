"""What ``check`` says about ``integrations:``: each one's URL path and where its alerts go.

The key is never shown: only that the source sends it (as a Bearer token, or a routing_key).
"""

from __future__ import annotations

from config.schema import format_duration
from config.settings import AlertRoute, Integration, Settings

SOURCES = {
    "alertmanager": "Alertmanager webhook (v4)",
    "grafana": "Grafana Alerting webhook",
    "events-v2": "Events API v2",
}


def url_path(integration: Integration) -> str:
    """Where the source posts: one path per integration, or the shared Events API v2 path
    (the routing_key names the integration)."""
    if integration.kind == "events-v2":
        return "/alerts/v2/enqueue"
    return f"/alerts/{integration.name}"


def _route(route: AlertRoute) -> str:
    when = " ".join(f"{k}={v}" for k, v in route.match) or "every alert"
    then = f"page through {route.escalation}" if route.escalation else "post in Slack only"
    severity = f" as [{route.severity}]" if route.severity else ""
    urgency = f", {route.urgency} urgency" if route.urgency else ""
    return f"{when} → {then}{severity}{urgency}"


def _auth(integration: Integration) -> str:
    if integration.kind == "events-v2":
        return "routing_key: the integration's key"
    return "Authorization: Bearer <the integration's key>"


def describe_integrations(settings: Settings) -> list[str]:
    """Integrations, then heartbeats (each part only when there are some)."""
    if not settings.integrations:
        return describe_heartbeats(settings)
    lines = ["", "Integrations (alerts from monitoring)"]
    for item in settings.integrations.values():
        lines.append(f"  {item.name}  {SOURCES.get(item.kind, item.kind)}")
        lines.append(f"    POST {url_path(item)}  ({_auth(item)})")
        lines.append(f"    announce in      {item.announce_in}")
        lines += [f"    route {i + 1:<11}{_route(r)}" for i, r in enumerate(item.routes)]
        if all(route.match for route in item.routes):  # no catch-all route
            lines.append("    no route matches → post in Slack only")
        if item.storm is not None:
            per = format_duration(item.storm.per)
            lines.append(
                f"    storm            over {item.storm.max_pages} new groups per {per}, "
                "further groups share one storm page"
            )
    return lines + describe_heartbeats(settings)


def describe_heartbeats(settings: Settings) -> list[str]:
    if not settings.heartbeats:
        return []
    lines = ["", "Heartbeats (no ping for every + grace pages)"]
    for beat in settings.heartbeats.values():
        lines.append(f"  {beat.name}")
        lines.append(
            f"    POST /heartbeat/{beat.name}  (Authorization: Bearer <the heartbeat's key>)"
        )
        lines.append(
            f"    every {format_duration(beat.every)}, grace {format_duration(beat.grace)}:"
            f" pages through {beat.escalation} after {format_duration(beat.every + beat.grace)}"
            " without a ping"
        )
    return lines
