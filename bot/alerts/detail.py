"""What is kept of a notification, bounded, and how Slack shows it.

Why bounded before it is stored: a group may carry hundreds of alerts and labels of 100 KiB.
The store keeps a few of each, cut (the counts say how many there were), so one notification
can never grow the record or a Slack message past its limits. Everything shown is escaped:
labels are whatever the sender put there. Links are kept only if they are http(s) URLs.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.alerts.payloads import Notification
from bot.slack.mrkdwn import ELLIPSIS, Block, Limit, Mrkdwn, context, escape, fit, md, section
from bot.store.alerts_base import AlertGroup

MAX_LABELS = 30
MAX_KEY = 100
MAX_VALUE = 200
MAX_ALERTS = 20
MAX_LINKS = 10
MAX_URL = 1000
SOURCES = {"alertmanager": "Alertmanager", "grafana": "Grafana", "events-v2": "Events API v2"}


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _labels(labels: dict[str, str]) -> dict[str, str]:
    items = sorted(labels.items())[:MAX_LABELS]
    return {cut(k, MAX_KEY): cut(v, MAX_VALUE) for k, v in items}


def safe_url(url: str) -> str | None:
    """``url`` if it is an http(s) URL with a host and nothing that could break a Slack link."""
    url = url.strip()
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 or c in "<>|" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def detail_json(kind: str, note: Notification) -> str:
    """The notification as stored: labels, a few alerts, the links that may be shown."""
    links = [(u, cut(t, 60)) for href, t in note.links if (u := safe_url(href))][: MAX_LINKS - 1]
    if source := safe_url(note.source or ""):  # its externalURL last, never crowded out
        links.append((source, SOURCES.get(kind, kind)))
    firing = sum(1 for a in note.alerts if a.status == "firing")
    data: dict[str, Any] = {
        "kind": kind,
        "labels": _labels(note.labels),
        "label_count": len(note.labels),
        "alert_count": len(note.alerts),
        "firing": firing,
        "alerts": [
            {
                "status": cut(a.status, 20),
                "labels": _labels(a.labels),
                "summary": cut(a.annotations.get("summary", ""), MAX_VALUE),
            }
            for a in note.alerts[:MAX_ALERTS]
        ],
        "links": links,
        "source": cut(note.source or "", MAX_VALUE),
    }
    return json.dumps(data, separators=(",", ":"))


def _read(detail: str) -> dict[str, Any]:
    try:
        data = json.loads(detail)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _pairs(labels: Any) -> Mrkdwn:
    if not isinstance(labels, dict) or not labels:
        return Mrkdwn("none")
    return Mrkdwn(" · ".join(md("`{}={}`", k, v) for k, v in labels.items()))


def _said(alert: dict[str, Any]) -> str:
    """One alert in a line: its summary, else its labels."""
    labels = alert.get("labels") or {}
    return str(alert.get("summary") or " ".join(f"{k}={v}" for k, v in labels.items()))


def _link(href: str, text: str) -> Mrkdwn:
    """A Slack link to a URL ``safe_url`` kept (no ``<``, ``>``, ``|``; ``&`` escaped)."""
    return Mrkdwn(f"<{escape(href)}|{escape(text).replace('|', '/')}>")


def alert_blocks(group: AlertGroup) -> list[Block]:
    """The group's source, state, counts, labels, alerts and links (each block within Slack's
    limits); added to its page's root message, or its own message when it pages nobody."""
    data = _read(group.detail)
    kind = str(data.get("kind", ""))
    head = md(
        ":bell: From `{}` ({}) · seen {}× · first {} · last {}",
        group.integration,
        SOURCES.get(kind, kind),
        group.count,
        _at(group.first_at),
        _at(group.last_at),
    )
    if group.state == "resolved" and group.resolved_at is not None:
        head = Mrkdwn(
            md(":large_green_circle: *Resolved at the source* at {} · ", _at(group.resolved_at))
            + head
        )
    labels = md("*Labels*: {}", _pairs(data.get("labels")))
    hidden = int(data.get("label_count", 0)) - len(data.get("labels") or {})
    if hidden > 0:
        labels = Mrkdwn(labels + md(" (and {} more)", hidden))
    blocks = [context(fit(head, Limit.TEXT)), section(fit(labels, Limit.TEXT))]
    alerts = data.get("alerts") or []
    total = int(data.get("alert_count", 0))
    if total > 1 or (alerts and kind != "events-v2"):
        lines = [
            md("• [{}] {}", a.get("status", ""), _said(a)) for a in alerts if isinstance(a, dict)
        ]
        more = md("\n…and {} more", total - len(alerts)) if total > len(alerts) else ""
        text = md("*Alerts* ({} firing of {}):\n", int(data.get("firing", 0)), total)
        blocks.append(section(fit(Mrkdwn(text + "\n".join(lines) + more), Limit.TEXT)))
    links = [_link(str(h), str(t)) for h, t in data.get("links") or [] if safe_url(str(h))]
    if links:
        blocks.append(context(fit(Mrkdwn("Links: " + " · ".join(links)), Limit.TEXT)))
    return blocks
