"""Resolution of ``integrations:``: escalations followed, channel ids and keys checked.

Why keys are compared here: ``POST /alerts/v2/enqueue`` finds its integration by the key alone
(``routing_key``), so two integrations with one key could not be told apart. The problem names
the other integration, never the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from config.problems import KeyPath, Reporter
from config.references import expand_senders
from config.schema_alerts import HeartbeatConfig, IntegrationConfig
from config.settings import AlertRoute, Escalation, Heartbeat, Integration, Senders, Storm

ANNOUNCE_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
MIN_KEY = 16  # characters: a key is typed into the source's config once, so it can be long


def _long_enough(key: str, path: KeyPath, report: Reporter) -> bool:
    """Whether ``key`` is long enough; if not, the problem says how to make one."""
    if len(key) >= MIN_KEY:
        return True
    report.add(
        path,
        f"the key is shorter than {MIN_KEY} characters: use a long random one, e.g. "
        "from `openssl rand -hex 24`",
    )
    return False


def _channel_id(channel: str, path: KeyPath, report: Reporter) -> bool:
    """Whether ``channel`` is a channel id (not a name); if not, the problem says where to look."""
    if ANNOUNCE_CHANNEL.match(channel):
        return True
    report.add(
        path,
        f"{channel!r} is not a Slack channel ID: use the channel ID (C…, shown at the "
        "bottom of the channel's details), not its name",
    )
    return False


def _followed(
    target: str,
    escalations: Mapping[str, Escalation],
    escalation_names: list[str],
    path: KeyPath,
    report: Reporter,
) -> bool:
    """Whether ``target`` is a valid escalation; an unknown one is reported here (an invalid
    one is reported where it is)."""
    if target in escalations:
        return True
    if target not in escalation_names:
        shown = ", ".join(escalation_names) or "none"
        report.add(path, f"unknown escalation {target!r} — defined escalations: {shown}")
    return False


def resolve_integrations(
    configs: Mapping[str, IntegrationConfig],
    escalations: Mapping[str, Escalation],
    escalation_names: list[str],
    groups: Mapping[str, Senders],
    invalid_senders: set[str],
    report: Reporter,
) -> dict[str, Integration]:
    out: dict[str, Integration] = {}
    keys: dict[str, str] = {}
    for name, cfg in configs.items():
        base: KeyPath = ("integrations", name)
        key = cfg.key.get_secret_value()
        if _long_enough(key, (*base, "key"), report):
            if key in keys:
                report.add(
                    (*base, "key"),
                    f"integration {keys[key]!r} has the same key: give each integration its own "
                    "(events-v2 finds the integration by its key)",
                )
            else:
                keys[key] = name
        channel = cfg.announce_in.strip()
        _channel_id(channel, (*base, "announce_in"), report)
        senders = expand_senders(
            cfg.allowed_senders, (*base, "allowed_senders"), groups, invalid_senders, report
        )
        routes: list[AlertRoute] = []
        for index, route in enumerate(cfg.routes):
            target = route.escalation
            path: KeyPath = (*base, "routes", index, "escalation")
            if target is not None and not _followed(
                target, escalations, escalation_names, path, report
            ):
                continue
            match = tuple(sorted(route.match.items()))
            routes.append(AlertRoute(match, target, route.severity, route.urgency))
        storm = Storm(cfg.storm.max_pages, cfg.storm.per) if cfg.storm else None
        out[name] = Integration(
            name, cfg.kind, key, channel, senders, tuple(routes), storm, tuple(cfg.allowed_senders)
        )
    return out


def resolve_heartbeats(
    configs: Mapping[str, HeartbeatConfig],
    escalations: Mapping[str, Escalation],
    escalation_names: list[str],
    report: Reporter,
) -> dict[str, Heartbeat]:
    """Each heartbeat's escalation followed, its key long enough, its channel an id."""
    out: dict[str, Heartbeat] = {}
    for name, cfg in configs.items():
        base: KeyPath = ("heartbeats", name)
        key = cfg.key.get_secret_value()
        channel = cfg.announce_in.strip() if cfg.announce_in is not None else None
        # Every check runs (each problem is reported), then all must have passed.
        checks = [
            _long_enough(key, (*base, "key"), report),
            _followed(cfg.escalation, escalations, escalation_names, (*base, "escalation"), report),
            channel is None or _channel_id(channel, (*base, "announce_in"), report),
        ]
        ok = all(checks)
        if ok:
            out[name] = Heartbeat(name, key, cfg.every, cfg.grace, cfg.escalation, channel)
    return out
