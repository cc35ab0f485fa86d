"""The text each paged person receives, and the check that it fits every SMS channel.

Why the whole text is checked: the page id and the link are part of what is billed, so the
SMS part limit applies to the text *with* them (a link is the same length for every person of
a page but the longest name, which the check uses).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.paging.links import AckLinks
from config import Settings
from config.settings import Escalation
from providers.base import Service
from providers.sms_parts import too_many_parts


def page_text(
    text: str, page_id: str, command: str, links: AckLinks | None, person: str | None
) -> str:
    """``text`` + how to acknowledge: the command, and the link when the bridge has one."""
    body = f"{text.strip()}\nAck: {command} ack {page_id}"
    if links is not None and person is not None:
        body += f"\n{links.url(page_id, person)}"
    return body


def longest_person(settings: Settings) -> str:
    names: Iterable[str] = [*settings.people, *(a for c in settings.contacts.values() for a in c)]
    return max(names, key=len, default="someone")


def sms_problem(
    settings: Settings, escalation: Escalation, text: str, command: str, links: AckLinks | None
) -> str | None:
    """Why this page's text cannot go by one of its SMS channels; None when it fits all."""
    sample = page_text(text, "P00000000", command, links, longest_person(settings))
    for step in escalation.steps:
        for name in step.via:
            channel = settings.channels.get(name)
            if channel is None or channel.service is not Service.SMS:
                continue
            problem = too_many_parts(sample, channel.max_sms_parts, channel.name)
            if problem is not None:
                return f"{problem} The page id and how to acknowledge are counted too."
    return None
