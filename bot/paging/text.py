"""The text each paged person receives, and the check that it fits every SMS channel.

Why the whole text is checked: the page id and the link are part of what is billed, so the
SMS part limit applies to the text *with* them. A link's length depends on the person it names,
so the check composes it for the longest of those an SMS step can actually page, not for every
name in the config (which refused pages that fit).
"""

from __future__ import annotations

from bot.paging.links import AckLinks
from config import Settings
from config.settings import Escalation, Step
from providers.base import Service
from providers.sms_parts import too_many_parts

_SAMPLE_ID = "P00000000"  # every page id is "P" and 8 characters


def page_text(
    text: str, page_id: str, command: str, links: AckLinks | None, person: str | None
) -> str:
    """``text`` + how to acknowledge: the command, and the link when the bridge has one."""
    body = f"{text.strip()}\nAck: {command} ack {page_id}"
    if links is not None and person is not None:
        body += f"\n{links.url(page_id, person)}"
    return body


def ack_suffix(page_id: str, command: str, links: AckLinks | None, person: str | None) -> str:
    """What ``page_text`` adds after the text: the same for every text, so it can be counted."""
    return page_text("", page_id, command, links, person)


def sms_people(settings: Settings, step: Step) -> set[str]:
    """Everyone ``step`` may page by SMS, by the key their link names: its people, whoever a
    schedule can put on call (anyone with a phone, for a calendar), each contact number."""
    keys: set[str] = set()
    with_phone = {name for name, person in settings.people.items() if person.phone}
    for target in step.notify:
        if target.kind == "person":
            keys |= {target.name} & with_phone
        elif target.kind == "schedule":
            schedule = settings.schedules.get(target.name)
            if schedule is None or schedule.calendar is not None:
                keys |= with_phone
                continue
            names = set(schedule.rotation.people if schedule.rotation else ())
            names |= {interval.person for interval in schedule.overrides}
            keys |= names & with_phone
        else:
            keys.update(settings.contacts.get(target.name, ()))
    return keys


def sms_problem(
    settings: Settings, escalation: Escalation, text: str, command: str, links: AckLinks | None
) -> str | None:
    """Why this page's text cannot go by one of its SMS channels; None when it fits all.

    Counted exactly as ``Engine`` composes it, for each person an SMS step may page: the links
    differ in length by the person they name (a page id is always 9 characters). A person's own
    contact rules count too: an SMS rule of someone a step may page is one of its channels."""
    for step in escalation.steps:
        keys = sms_people(settings, step)
        if not keys:
            continue  # nobody this step pages has a phone: it sends no SMS
        channels = [settings.channels.get(name) for name in step.via]
        sms = [c for c in channels if c is not None and c.service is Service.SMS]
        # The links are all ASCII: the longest suffix is the one that costs the most.
        suffix = max((ack_suffix(_SAMPLE_ID, command, links, k) for k in keys), key=len)
        checks = [(channel, suffix) for channel in sms]
        for key in sorted(keys):
            person = settings.people.get(key)
            for rule in person.reach if person is not None else ():
                channel = settings.channels.get(rule.via)
                if channel is not None and channel.service is Service.SMS:
                    checks.append((channel, ack_suffix(_SAMPLE_ID, command, links, key)))
        for channel, tail in checks:
            problem = too_many_parts(text.strip(), channel.max_sms_parts, channel.name, tail)
            if problem is not None:
                return f"{problem} The page id and how to acknowledge are counted too."
    return None
