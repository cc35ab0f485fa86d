"""What a send costs and when it needs a second look before it goes.

Why policy: how many people (or an unknown number, behind a contact tag) one click may reach is
a rule, like who may send; the words for it are shared by the Slack prompt and the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.values import Plan
from providers.base import MessageType, RecipientKind, Service
from providers.sms_parts import count


def audience(plans: Iterable[Plan]) -> str:
    """Who a send reaches, in words: "12 people", or the tags whose size only the provider knows."""
    people = 0
    tags: list[str] = []
    for plan in plans:
        for recipient in plan.recipients:
            if recipient.kind is RecipientKind.TAG:
                tags.append(recipient.address.removeprefix("tag:"))
            else:
                people += 1
    if not tags:
        return f"{people} {'person' if people == 1 else 'people'}"
    tagged = f"everyone tagged {', '.join(tags)} in AutoKonnect"
    return f"{people} {'person' if people == 1 else 'people'} and {tagged}" if people else tagged


def sms_note(plans: Iterable[Plan]) -> str | None:
    """What each person's SMS costs, e.g. "SMS: 2 parts, GSM-7"; None when no plan is an SMS."""
    for plan in plans:
        if plan.route.service is Service.SMS and plan.message.type is MessageType.TEXT:
            return f"SMS: {count(plan.message.text or '').explain()}"
    return None


def needs_confirmation(plans: Iterable[Plan], confirm_over: int) -> bool:
    """Over ``confirm_over`` recipients — or any contact tag, whose size we cannot know (one tag
    can be thousands of customers), so it is never sent without a second look."""
    recipients = [r for plan in plans for r in plan.recipients]
    return len(recipients) > confirm_over or any(r.kind is RecipientKind.TAG for r in recipients)
