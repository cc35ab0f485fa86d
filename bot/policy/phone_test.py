"""Who may test whose phone: anyone their own (the person whose ``slack:`` is them); someone
else's, whoever may page that person — an escalation's ``allowed_senders`` where the escalation
pages them. Why that rule: a test reaches a phone as a page does, so it is allowed exactly where
a page to that person would be."""

from __future__ import annotations

from bot.policy.refusals import Reason, Refusal
from bot.policy.senders import Sender, among
from config import Settings
from config.schedules import people_named
from config.settings import Escalation, Person


def pages_person(settings: Settings, escalation: Escalation, name: str) -> bool:
    """Does a step of ``escalation`` notify ``name``: directly, by a rotation they are on, or by
    a contact list holding their phone? (A calendar's people are known only once it is read.)"""
    person = settings.people.get(name)
    phone = person.phone if person is not None else None
    for step in escalation.steps:
        for target in step.notify:
            if target.kind == "person" and target.name == name:
                return True
            schedule = settings.schedules.get(target.name) if target.kind == "schedule" else None
            if schedule is not None and name in people_named(schedule):
                return True
            if target.kind == "contacts" and phone in settings.contacts.get(target.name, ()):
                return True
    return False


def own_person(settings: Settings, sender: Sender) -> Person | Refusal:
    """The person ``/send test-me`` tests: the one whose ``slack:`` is the sender."""
    person = settings.person_with_slack(sender.user_id)
    if person is not None:
        return person
    return Refusal(
        Reason.INVALID,
        f"You are not in people, so the bridge has no number of yours to test. Ask a bridge "
        f"admin to add you to people with slack: {sender.user_id}.",
    )


def may_test(settings: Settings, sender: Sender, name: str) -> Person | Refusal:
    """The person ``/send test NAME`` tests, if this sender may test them."""
    person = settings.people.get(name)
    if person is None:
        known = ", ".join(settings.people) or "none"
        return Refusal(Reason.INVALID, f"There is nobody called `{name}` in people: {known}.")
    if person.slack is not None and person.slack == sender.user_id:
        return person
    paging = [e for e in settings.escalations.values() if pages_person(settings, e, name)]
    for escalation in paging:
        users, groups = escalation.allowed_users, escalation.allowed_usergroups
        if among(users, groups, sender.user_id, sender.usergroups):
            return person
    through = ", ".join(f"`{e.name}`" for e in paging) or "no escalation"
    return Refusal(
        Reason.NOT_PAGE_SENDER,
        f"You may test {name}'s phone only if you may page them: {name} is paged by {through}; "
        f"ask a bridge admin to add you to its allowed_senders.{sender.told}",
        subject=name,
    )
