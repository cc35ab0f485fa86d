"""The words of an alert's page: ``[severity] summary``, cut to fit every SMS channel.

Why cut and not refused: a person typing ``/send page`` can shorten their text; an alert
cannot be shortened by its sender, and a refused alert pages nobody. The page id and how to
acknowledge (added by the engine) always fit; the summary gives way, ending in "..." (three
dots: a "…" would make the whole message UCS-2 and halve what fits).
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.alerts.payloads import Notification
from bot.paging.links import AckLinks
from bot.paging.text import sms_problem
from config import Settings
from config.settings import Escalation

MAX_TITLE = 1000  # characters kept before the SMS fit: a page's text is read on a phone
CUT = "..."
_SPACE = re.compile(r"\s+")


def minute(moment: datetime) -> str:
    """A moment as the alert messages, commands and heartbeat pages show it (to the minute)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def summary(note: Notification) -> str:
    """The ``summary`` annotation, else ``description``, else alert name and instance (a
    firing alert's before a resolved one's); Events v2: ``payload.summary``."""
    if note.summary:
        return note.summary
    firing = [a for a in note.alerts if a.status == "firing"] or note.alerts
    for key in ("summary", "description"):
        found = note.annotations.get(key) or next(
            (a.annotations[key] for a in firing if a.annotations.get(key)), None
        )
        if found:
            return found
    labels = {**(firing[0].labels if firing else {}), **note.labels}
    words = [labels.get("alertname", ""), labels.get("instance", "")]
    return " ".join(w for w in words if w) or "alert"


def title(note: Notification, severity: str | None) -> str:
    """``[severity] summary`` on one line, with how many alerts fire when more than one."""
    shown = severity or note.severity or note.labels.get("severity") or "alert"
    text = f"[{shown}] {summary(note)}"
    firing = sum(1 for a in note.alerts if a.status == "firing")
    if firing > 1:
        text += f" ({firing} alerts)"
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - len(CUT)] + CUT


def fitted(
    settings: Settings, policy: Escalation, text: str, command: str, links: AckLinks | None
) -> str:
    """``text``, or the longest head of it (ending in "...") that fits every SMS channel of
    ``policy`` with the page id and ack suffix; found by halving, ~10 checks."""
    if sms_problem(settings, policy, text, command, links) is None:
        return text
    low, high = 0, len(text)  # a head of ``low`` characters fits (0: just the "...")
    while low < high:
        middle = (low + high + 1) // 2
        candidate = text[:middle].rstrip() + CUT
        if sms_problem(settings, policy, candidate, command, links) is None:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + CUT
