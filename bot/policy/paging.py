"""Who may start a page, who may acknowledge one, and who may see one (``/send status P…``).

Why one module: the three answers are one rule read three ways. Whoever may start a page through
an escalation (its ``allowed_senders``) may also acknowledge its pages, as may the people a page
has paged so far and whoever started it; whoever may acknowledge a page may see it. A preset
that pages (``broadcasts.*.escalation``) never widens who may page. The active-page caps are
counted by the store with the insert (``bot.paging.caps``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum

from bot.policy.refusals import Reason, Refusal
from bot.policy.senders import Sender, among
from config import Settings
from config.settings import Escalation


class AckRight(StrEnum):
    """Why someone may acknowledge (and see) a page; ``NONE``: they may not."""

    OPERATOR = "operator"  # the login at the bridge's terminal, who holds its config and store
    PAGED = "paged"  # paged by this page so far (by Slack id, or the person an ack link names)
    STARTER = "starter"  # started the page
    PAGE_SENDER = "page_sender"  # among the escalation's allowed_senders
    NONE = "none"


def may_page(
    escalation: Escalation, sender: Sender, *, preset: str | None = None
) -> Refusal | None:
    """None if the sender is among the escalation's allowed_senders. ``preset``: the title of
    the broadcast they page through, named in the refusal (its own senders are asked apart)."""
    if among(
        escalation.allowed_users, escalation.allowed_usergroups, sender.user_id, sender.usergroups
    ):
        return None
    through = f", which the {preset} broadcast pages through" if preset else ""
    return Refusal(
        Reason.NOT_PAGE_SENDER,
        f"You may not page through `{escalation.name}`{through}. Ask a bridge admin to add you "
        f"(or one of your user groups) to escalations.{escalation.name}.allowed_senders."
        f"{sender.told}",
        field="text",
        subject=escalation.name,
    )


def ack_right(
    settings: Settings,
    *,
    escalation: str,
    started_by: str | None,
    paged: Collection[str],
    user_id: str,
    usergroups: Iterable[str] = (),
) -> AckRight:
    """A Slack user's right to acknowledge (and see) a page of ``escalation`` started by
    ``started_by`` that has paged the people named in ``paged`` so far."""
    mine = {name for name, person in settings.people.items() if person.slack == user_id}
    if not mine.isdisjoint(paged):
        return AckRight.PAGED
    if started_by == user_id:
        return AckRight.STARTER
    policy = settings.escalations.get(escalation)
    if policy is not None and among(
        policy.allowed_users, policy.allowed_usergroups, user_id, usergroups
    ):
        return AckRight.PAGE_SENDER
    return AckRight.NONE


def link_ack_right(person: str | None, paged: Collection[str]) -> AckRight:
    """An ack link acknowledges for the person it names (its signature checked by the caller),
    if the page has paged them."""
    return AckRight.PAGED if person is not None and person in paged else AckRight.NONE


def may_see_page(right: AckRight) -> bool:
    """Who may acknowledge a page may see it; anyone else is told it does not exist."""
    return right is not AckRight.NONE
