"""Whom a step pages, and by which number on which channel.

A target is a person, ``schedule:NAME`` (whoever is on call at that moment, in the schedule's
own timezone) or a contact list (each number is its own "person"). A WhatsApp group channel
has no per-person number: it pages its own group, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from config import Settings
from config.schedules import on_call
from config.settings import Person, ResolvedChannel, Step, no_receipts_reason
from providers.base import Service


@dataclass(frozen=True)
class Paged:
    """Someone a step pages: a person of ``people``, or an address standing for itself."""

    key: str  # the name in people, or the address
    slack: str | None = None
    phone: str | None = None
    whatsapp: str | None = None


def person_paged(person: Person) -> Paged:
    """How ``person`` is reached: said once, so a step, its fallback, a contact rule and a phone
    test all use the same numbers (WhatsApp at ``whatsapp``, else at ``phone``)."""
    return Paged(person.name, person.slack, person.phone, person.whatsapp or person.phone)


def step_people(settings: Settings, step: Step, at: datetime) -> tuple[list[Paged], list[str]]:
    """Who the step pages at ``at`` (deduplicated, in order) and notes on schedules with a gap."""
    found: dict[str, Paged] = {}
    notes: list[str] = []
    for target in step.notify:
        if target.kind == "person":
            names: Iterable[str] = [target.name]
        elif target.kind == "schedule":
            schedule = settings.schedules.get(target.name)
            shift = on_call(schedule, at) if schedule is not None else None
            if shift is None:
                notes.append(f"nobody is on call on schedule {target.name}")
            names = [shift.person] if shift is not None else []
        else:
            for address in settings.contacts.get(target.name, ()):
                found.setdefault(address, Paged(address, phone=address, whatsapp=address))
            continue
        for name in names:
            person = settings.people.get(name)
            if person is not None:
                found.setdefault(name, person_paged(person))
    return list(found.values()), notes


def address_for(paged: Paged, channel: ResolvedChannel) -> str | None:
    """The number ``paged`` is reached at on ``channel``; None if they have none for it."""
    if channel.service is Service.SMS:
        return paged.phone
    if channel.service is Service.WHATSAPP_GROUP:
        return None
    return paged.whatsapp or paged.phone


def group_paged(channel: ResolvedChannel) -> list[Paged]:
    """A group channel pages its own recipients (the group), each standing for itself."""
    return [Paged(address) for address in channel.recipients]


def has_receipts(settings: Settings, channel: ResolvedChannel) -> bool:
    """Does the channel's account tell us about delivery? Only then may a page fall back on
    time alone (TalkNTalk reports SMS; Kaleyra reports WhatsApp; both need webhook_secret)."""
    return no_receipts_reason(settings, channel) is None
