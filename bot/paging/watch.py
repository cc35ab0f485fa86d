"""What an operator watching pages sees: one log line and one metric per change of a page.

Why called only where the store said the change was this process's (``create_page`` returned our
id, ``advance_page``/``end_page``/``acknowledge_page`` returned True): replicas race for every
move, and a move counted by both would make ``/metrics`` lie. Log lines name people by their
config name (or Slack id); a number that stands for itself is masked, never whole.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot import metrics
from bot.paging.slack import shown_name
from bot.store.pages_base import PageRecord
from config import Settings

log = logging.getLogger(__name__)

OPERATOR = "cli:"  # an acknowledgement from the terminal: ``cli:<login>``


def plain_name(settings: Settings, key: str) -> str:
    """Who ``key`` (a page's ``acknowledged_by`` or a paged person) is, safe for a log line or
    a terminal: a config name, a Slack id, the operator's login, or a masked number."""
    if key.startswith("slack:"):
        user = key.removeprefix("slack:")
        person = settings.person_with_slack(user)
        return person.name if person is not None else user
    if key.startswith(OPERATOR):
        return f"{key.removeprefix(OPERATOR)} (terminal)"
    return shown_name(settings, key)


def steps_of(settings: Settings, escalation: str) -> int:
    policy = settings.escalations.get(escalation)
    return len(policy.steps) if policy is not None else 0


def started(settings: Settings, page: PageRecord) -> None:
    metrics.PAGES_STARTED.labels(page.escalation).inc()
    log.info(
        "page %s started: escalation %s, %d step(s), by %s",
        page.page_id,
        page.escalation,
        steps_of(settings, page.escalation),
        page.sender or "the terminal",
    )


def escalated(settings: Settings, page: PageRecord, round_: int, step: int) -> None:
    """A later step (or a repeat) ran: nobody acknowledged within the previous step's wait."""
    metrics.PAGES_ESCALATED.labels(page.escalation).inc()
    repeat = f" (repeat {round_})" if round_ else ""
    log.info(
        "page %s escalated: escalation %s, step %d of %d%s",
        page.page_id,
        page.escalation,
        step + 1,
        steps_of(settings, page.escalation),
        repeat,
    )


def acknowledged(settings: Settings, page: PageRecord, by: str, at: datetime, via: str) -> None:
    seconds = max(0.0, (at - page.created_at).total_seconds())
    metrics.PAGES_ACKNOWLEDGED.labels(page.escalation).inc()
    metrics.PAGE_ACK_SECONDS.labels(page.escalation).observe(seconds)
    how = "" if by.startswith(OPERATOR) else f" ({via})"  # the terminal's name says it
    log.info(
        "page %s acknowledged by %s%s after %ds: escalation %s, step %d",
        page.page_id,
        plain_name(settings, by),
        how,
        int(seconds),
        page.escalation,
        page.step + 1,
    )


def ended(settings: Settings, page: PageRecord) -> None:
    metrics.PAGES_UNANSWERED.labels(page.escalation).inc()
    log.info(
        "page %s ended unanswered: escalation %s, step %d of %d was the last",
        page.page_id,
        page.escalation,
        page.step + 1,
        steps_of(settings, page.escalation),
    )
