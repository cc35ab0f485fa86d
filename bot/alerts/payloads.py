"""What a monitoring source sends, read into one shape: ``Notification``.

Alertmanager's webhook (version 4,
https://prometheus.io/docs/alerting/latest/configuration/#webhook_config) and Grafana
Alerting's webhook contact point (the same shape with Grafana's extra fields,
https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/)
carry a group of alerts under ``groupKey``; PagerDuty's Events API v2
(https://developer.pagerduty.com/docs/events-api-v2/trigger-events/) carries one event under
``dedup_key``. Everything in them is the sender's text: types are checked, nothing is trusted,
and what is kept is bounded by ``bot.alerts.detail``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["trigger", "acknowledge", "resolve"]
EVENT_ACTIONS: tuple[str, ...] = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")  # Events API v2's payload.severity


class BadPayload(ValueError):
    """The body cannot be read as this source's notification; the message names what."""


@dataclass(frozen=True)
class Alert:
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    generator_url: str


@dataclass(frozen=True)
class Notification:
    action: Action
    group_key: str
    labels: dict[str, str]  # what routes match on: the group's common labels (or the event's)
    annotations: dict[str, str]
    alerts: list[Alert]
    links: list[tuple[str, str]]  # (href, text): checked for http(s) when shown
    summary: str | None = None  # Events v2: payload.summary
    severity: str | None = None  # Events v2: payload.severity
    source: str | None = None  # Events v2: payload.source; Alertmanager: externalURL
    made_key: bool = False  # Events v2: the dedup_key was made here (answered to the sender)
    extra: dict[str, str] = field(default_factory=dict)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 JSON"
        raise BadPayload(f"the body is not JSON ({reason})") from None


def _field(data: dict[str, Any], name: str, where: str = "") -> Any:
    if name not in data or data[name] is None:
        raise BadPayload(f"missing field '{where}{name}'")
    return data[name]


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadPayload(f"field '{name}' must be a string")
    return value


def _strings(value: Any, name: str) -> dict[str, str]:
    """A label or annotation map: string values only (a number is kept as its text)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadPayload(f"field '{name}' must be an object of strings")
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, str | int | float | bool):
            out[str(key)] = str(item)
        elif item is not None:
            raise BadPayload(f"field '{name}.{key}' must be a string")
    return out


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadPayload(f"{what} must be a JSON object")
    return data


def alert_group(data: Any) -> Notification:
    """Alertmanager's webhook v4 or Grafana's webhook body (the same fields; Grafana adds its
    own, read here only for links)."""
    body = _object(data, "the body")
    group_key = _text(_field(body, "groupKey"), "groupKey")
    status = _text(_field(body, "status"), "status")
    if status not in ("firing", "resolved"):
        raise BadPayload(f"field 'status' must be firing or resolved, not {status[:40]!r}")
    raw_alerts = _field(body, "alerts")
    if not isinstance(raw_alerts, list):
        raise BadPayload("field 'alerts' must be a list")
    alerts: list[Alert] = []
    links: list[tuple[str, str]] = []
    for index, raw in enumerate(raw_alerts):
        item = _object(raw, f"alerts[{index}]")
        alert = Alert(
            status=str(item.get("status") or status),
            labels=_strings(item.get("labels"), f"alerts[{index}].labels"),
            annotations=_strings(item.get("annotations"), f"alerts[{index}].annotations"),
            starts_at=str(item.get("startsAt") or ""),
            generator_url=str(item.get("generatorURL") or ""),
        )
        alerts.append(alert)
        if index < 5:  # a few alerts' own links; the rest are in their source
            for key, text in (
                ("generatorURL", "source"),
                ("silenceURL", "silence"),  # Grafana: silence this alert in Grafana
                ("dashboardURL", "dashboard"),
                ("panelURL", "panel"),
                ("imageURL", "image"),  # Grafana: a screenshot of the rule's panel
            ):
                if isinstance(item.get(key), str) and item[key]:
                    links.append((item[key], text))
    labels = _strings(body.get("commonLabels"), "commonLabels")
    if not labels and alerts:  # nothing in common (or not sent): the first alert's labels
        labels = dict(alerts[0].labels)
    annotations = _strings(body.get("commonAnnotations"), "commonAnnotations")
    runbook = annotations.get("runbook_url") or next(
        (a.annotations["runbook_url"] for a in alerts if "runbook_url" in a.annotations), None
    )
    if runbook:
        links.insert(0, (runbook, "runbook"))
    external = body.get("externalURL")
    return Notification(
        action="trigger" if status == "firing" else "resolve",
        group_key=group_key,
        labels=labels,
        annotations=annotations,
        alerts=alerts,
        links=links,
        source=external if isinstance(external, str) else None,
    )


def event(data: Any) -> tuple[str, Notification]:
    """An Events API v2 event: (its routing_key, the notification). A trigger without a
    ``dedup_key`` gets a new one, as PagerDuty makes one."""
    body = _object(data, "the body")
    routing_key = _text(_field(body, "routing_key"), "routing_key")
    action = _text(_field(body, "event_action"), "event_action")
    if action not in EVENT_ACTIONS:
        raise BadPayload(
            f"field 'event_action' must be trigger, acknowledge or resolve, not {action[:40]!r}"
        )
    dedup = body.get("dedup_key")
    if dedup is not None and not isinstance(dedup, str):
        raise BadPayload("field 'dedup_key' must be a string")
    made = False
    if not dedup:
        if action != "trigger":
            raise BadPayload(f"missing field 'dedup_key' (an {action} names the event it ends)")
        dedup, made = secrets.token_hex(16), True
    if action != "trigger":
        ends: Action = "acknowledge" if action == "acknowledge" else "resolve"
        return routing_key, Notification(ends, dedup, {}, {}, [], [])
    payload = _object(_field(body, "payload"), "field 'payload'")
    summary = _text(_field(payload, "summary", "payload."), "payload.summary")
    source = _text(_field(payload, "source", "payload."), "payload.source")
    severity = _text(_field(payload, "severity", "payload."), "payload.severity")
    if severity not in SEVERITIES:
        raise BadPayload(
            f"field 'payload.severity' must be critical, error, warning or info, "
            f"not {severity[:40]!r}"
        )
    labels = {"severity": severity, "source": source}
    for key in ("component", "group", "class"):
        if isinstance(payload.get(key), str):
            labels[key] = payload[key]
    details = payload.get("custom_details")
    if isinstance(details, dict):
        for key, value in details.items():
            if isinstance(value, str | int | float | bool):
                labels.setdefault(str(key), str(value))
    links: list[tuple[str, str]] = []
    raw_links = body.get("links")
    if isinstance(raw_links, list):
        for link in raw_links[:10]:
            if isinstance(link, dict) and isinstance(link.get("href"), str):
                text = link.get("text")
                links.append((link["href"], text if isinstance(text, str) else "link"))
    client_url = body.get("client_url")
    if isinstance(client_url, str) and client_url:
        client = body.get("client")
        links.append((client_url, client if isinstance(client, str) and client else "source"))
    return routing_key, Notification(
        action="trigger",
        group_key=dedup,
        labels=labels,
        annotations={},
        alerts=[],
        links=links,
        summary=summary,
        severity=severity,
        source=source,
        made_key=made,
    )
