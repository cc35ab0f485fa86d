"""Which ways a person is reached, for a test of their phone: their own ``reach`` rules, else
each channel of the escalations that page them which has a number of theirs.

Why "the escalations that page them": without rules a page reaches a person through the step's
``via``; a test should try exactly those channels, not every channel in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from bot.paging.targets import address_for, person_paged
from bot.policy.phone_test import pages_person
from config import Settings
from config.settings import Person
from providers.base import Service


@dataclass(frozen=True)
class Method:
    """One way to reach a person: a channel and their number on it."""

    channel: str
    address: str
    after: timedelta = timedelta(0)


def _via_channels(settings: Settings, name: str) -> Iterator[str]:
    for escalation in settings.escalations.values():
        if pages_person(settings, escalation, name):
            for step in escalation.steps:
                yield from step.via


def methods_for(settings: Settings, person: Person) -> list[Method]:
    """The person's ways, in the order a page tries them, each channel once."""
    paged = person_paged(person)
    wanted = (
        [(rule.via, rule.after) for rule in person.reach]
        if person.reach
        else [(via, timedelta(0)) for via in _via_channels(settings, person.name)]
    )
    found: dict[str, Method] = {}
    for via, after in wanted:
        channel = settings.channels.get(via)
        if via in found or channel is None or channel.service is Service.WHATSAPP_GROUP:
            continue
        address = address_for(paged, channel)
        if address is not None:
            found[via] = Method(via, address, after)
    return list(found.values())
