"""A page's own copy of its escalation's steps, taken when it starts.

Why a copy: a page runs for minutes or hours. If its steps were read from the config at each
move, a config edit (or a replica started with a newer file) would shift a running page: a
removed step skipped, a longer ``wait`` stretching the page people are already on. Grafana
OnCall does the same: the policy a page started with is the one it finishes with.

What is copied: the steps (whom, through which channels, how long to wait), ``repeat``,
``fallback_after`` and (v2) the page's ``urgency``: the escalation's, or the alert route's that
started it, so a page keeps the urgency it started with. A v1 copy (before urgency) reads as
high, as every page was then. Who may acknowledge is still read from the config: taking
someone's right away should take effect at once. Whom a schedule names is still resolved when
the step runs: the person on call then is the one to page. A page recorded before snapshots
existed has none and runs from the config, as it always did.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.store.pages_base import PageRecord
from config import Settings
from config.settings import Escalation, Step, Target

log = logging.getLogger(__name__)

VERSION = 2
READABLE = (1, 2)  # v1: no urgency (high)
URGENCIES = ("high", "low")


def to_json(escalation: Escalation, urgency: str | None = None) -> str:
    """The parts of ``escalation`` a running page needs, as compact JSON; ``urgency`` (an
    alert route's) overrides the escalation's."""
    return json.dumps(
        {
            "v": VERSION,
            "urgency": urgency or escalation.urgency,
            "steps": [
                {
                    "notify": [[t.kind, t.name] for t in step.notify],
                    "via": list(step.via),
                    "wait": step.wait.total_seconds(),
                }
                for step in escalation.steps
            ],
            "repeat": escalation.repeat,
            "fallback_after": (
                None
                if escalation.fallback_after is None
                else escalation.fallback_after.total_seconds()
            ),
        },
        separators=(",", ":"),
    )


def from_json(text: str, current: Escalation | None, name: str) -> Escalation:
    """The escalation a page started with; who may acknowledge comes from ``current`` (the
    config now), or nobody beyond those paged when it was removed. ValueError if unreadable."""
    data: Any = json.loads(text)
    if not isinstance(data, dict) or data.get("v") not in READABLE:
        raise ValueError("unknown escalation snapshot version")
    urgency = str(data.get("urgency", "high"))
    if urgency not in URGENCIES:
        raise ValueError(f"unknown urgency {urgency!r}")
    steps = tuple(
        Step(
            notify=tuple(Target(str(kind), str(target)) for kind, target in step["notify"]),
            via=tuple(str(v) for v in step["via"]),
            wait=timedelta(seconds=float(step["wait"])),
        )
        for step in data["steps"]
    )
    fallback = data.get("fallback_after")
    return Escalation(
        name=name,
        steps=steps,
        repeat=int(data["repeat"]),
        fallback_after=None if fallback is None else timedelta(seconds=float(fallback)),
        allowed_users=current.allowed_users if current else frozenset(),
        allowed_usergroups=current.allowed_usergroups if current else frozenset(),
        allowed_senders=current.allowed_senders if current else (),
        urgency=urgency,
    )


def with_urgency(escalation: Escalation, urgency: str | None) -> Escalation:
    """``escalation`` as a page started by a route of ``urgency`` (None: its own) runs it."""
    return escalation if urgency is None else replace(escalation, urgency=urgency)


def escalation_of(settings: Settings, page: PageRecord) -> Escalation | None:
    """The steps ``page`` runs: its own copy, or (a page from before copies were kept, or one
    whose copy cannot be read) the config's escalation of that name now; None if neither."""
    current = settings.escalations.get(page.escalation)
    if page.escalation_steps is None:
        return current
    try:
        return from_json(page.escalation_steps, current, page.escalation)
    except (ValueError, KeyError, TypeError):
        log.warning("page %s: its escalation copy is unreadable; using the config", page.page_id)
        return current
