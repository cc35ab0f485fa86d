"""``/send page``, ``ack``, ``oncall``, ``status P…`` and the Acknowledge button on a page.

Why here and not in ``commands``: the page surface has its own rules (``bot.policy.paging``) and
its own service (``bot.paging``); ``commands`` only routes to it. This module words the answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from bot.paging.service import AckResult, PagingService
from bot.paging.slack import took, who
from bot.paging.states import AckOutcome
from bot.paging.status import page_status_text, unknown_page_text
from bot.policy import Rejection, Sender, may_page, refuse
from bot.slack.deps import Deps
from bot.slack.listeners.context import acked, deps_of
from bot.slack.mrkdwn import Mrkdwn, md
from bot.slack.parse import OnCall, Page
from bot.slack.refusals import rejection_text
from config.describe_reach import reach_words
from config.schedules import handoffs, on_call

_SHOWN = "%a %d %b %H:%M %Z"


def _paging(deps: Deps) -> PagingService:
    if deps.paging is None:
        raise Rejection("Paging is not running in this bridge.")
    return deps.paging


async def start_page(deps: Deps, command: Page, sender: Sender, idempotency_key: str) -> Mrkdwn:
    """``idempotency_key``: the command's own (``slash:<trigger id>``), as its sends use."""
    policy = deps.settings.escalations.get(command.escalation)
    if policy is None:
        names = ", ".join(deps.settings.escalations) or "none"
        return md("There is no escalation `{}`. Escalations: {}.", command.escalation, names)
    try:
        refuse(may_page(policy, sender))
        page = await _paging(deps).start(
            command.escalation,
            command.text,
            sender.user_id,
            sender.slack_channel,
            idempotency_key=idempotency_key,
        )
    except Rejection as exc:
        return rejection_text(exc)
    return md(
        "Paging through `{}`: page *{}*. Acknowledge with the button or `{} ack {}`.",
        policy.name,
        page.page_id,
        deps.command,
        page.page_id,
    )


def unknown_page(page_id: str) -> Mrkdwn:
    return md("There is no page `{}`. Page ids look like P7K3QX9A2.", page_id)


def ack_text(deps: Deps, result: AckResult, page_id: str, *, on_root: bool = False) -> Mrkdwn:
    """``on_root``: the Acknowledge button, on a message that already shows the page. Anywhere
    else someone who may not acknowledge gets the answer for an unknown id, word for word: the
    page's existence, escalation and state are not theirs to learn."""
    page = result.page
    if page is None or (result.outcome is AckOutcome.REFUSED and not on_root):
        return unknown_page(page_id)
    if result.outcome is AckOutcome.ACKNOWLEDGED:
        return md("You acknowledged page *{}*: no later step will run.", page.page_id)
    if result.outcome is AckOutcome.ALREADY and page.acknowledged_at is not None:
        return md(
            "Page *{}* was already acknowledged by {} at {} ({} after it started).",
            page.page_id,
            who(deps.settings, page.acknowledged_by or "?"),
            page.acknowledged_at.strftime("%H:%M:%S UTC"),
            took(page.created_at, page.acknowledged_at),
        )
    if result.outcome is AckOutcome.ENDED:
        return md("Page *{}* has already ended unanswered.", page.page_id)
    return md(
        "You may not acknowledge page *{}*: only people it paged so far, whoever started it, or "
        "the senders of escalation `{}`, may.",
        page.page_id,
        page.escalation,
    )


async def acknowledge(deps: Deps, page_id: str, sender: Sender, *, on_root: bool = False) -> Mrkdwn:
    result = await _paging(deps).acknowledge(
        page_id, user_id=sender.user_id, usergroups=sender.usergroups, via="Slack"
    )
    return ack_text(deps, result, page_id, on_root=on_root)


async def page_status(deps: Deps, page_id: str, sender: Sender) -> Mrkdwn:
    """``/send status P…``: an unknown page and a forbidden one get the same answer."""
    view = await _paging(deps).view(page_id, sender.user_id, sender.usergroups)
    if view is None:
        return unknown_page_text(page_id)
    return page_status_text(deps.settings, view)


def oncall_text(deps: Deps, command: OnCall, now: datetime) -> Mrkdwn:
    schedules = deps.settings.schedules
    if command.schedule is not None and command.schedule not in schedules:
        names = ", ".join(schedules) or "none"
        return md("There is no schedule `{}`. Schedules: {}.", command.schedule, names)
    chosen = [command.schedule] if command.schedule else list(schedules)
    if not chosen:
        return md("No schedules are configured (schedules: in the bridge config).")
    lines: list[str] = []
    for name in chosen:
        schedule = schedules[name]
        shift = on_call(schedule, now)
        zone = schedule.timezone
        if shift is None:
            lines.append(md("*{}*: nobody is on call now", name))
        else:
            lines.append(
                md(
                    "*{}*: {} until {}",
                    name,
                    who(deps.settings, shift.person),
                    shift.until.astimezone(zone).strftime(_SHOWN),
                )
            )
            person = deps.settings.people.get(shift.person)
            if person is not None:
                lines.append(md("    {}", "; ".join(reach_words(person))))
        following = handoffs(schedule, now, 1)
        if following:
            nxt = following[0]
            lines.append(
                md(
                    "    next: {} from {}",
                    who(deps.settings, nxt.person),
                    nxt.since.astimezone(zone).strftime(_SHOWN),
                )
            )
    return Mrkdwn("\n".join(lines))


async def on_ack_page(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """The Acknowledge button on a page's root message (its value is the page id)."""
    await acked(ack, deps_of(context), _ack_clicked, body, respond)


async def _ack_clicked(deps: Deps, body: dict[str, Any], respond: AsyncRespond) -> None:
    page_id = str((body.get("actions") or [{}])[0].get("value") or "")
    user = body["user"]["id"]
    sender = await deps.service.sender(user, None)
    text = await acknowledge(deps, page_id, sender, on_root=True)
    await respond(text=text, response_type="ephemeral", replace_original=False)
