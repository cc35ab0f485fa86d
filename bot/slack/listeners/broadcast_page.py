"""The on-call broadcast modal submitted for a preset with ``escalation:``: it starts a page.

Why apart from ``views``: a paging preset has no channels to plan; its checks are the preset's
senders, the escalation's senders (a preset never widens who may page, so whoever starts a page
may also acknowledge it) and the page's own (text present, SMS parts with the ack line, the
active-page caps), made before the ack so Slack shows them inline. The page's root message and
timeline go to the preset's ``announce_in``; a double submit of the same modal starts one page
(its view id is the page's idempotency key, kept in the store, so two replicas agree too).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.directory import LOOKUP_WITHIN, MembershipPending
from bot.policy import Rejection, may_broadcast, may_page, refuse
from bot.slack import ids
from bot.slack.deps import Deps
from bot.slack.forms import read_broadcast_form
from bot.slack.listeners import pending
from bot.slack.listeners.context import acked
from config import ResolvedBroadcast


async def submit_page(
    deps: Deps,
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    preset: ResolvedBroadcast,
    sender_name: str,
) -> None:
    form = read_broadcast_form(body["view"])
    user = body["user"]["id"]
    escalation = preset.escalation or ""
    try:
        sender = await deps.service.sender(user, None, within=LOOKUP_WITHIN)
    except MembershipPending:
        await ack(
            response_action="errors",
            errors={ids.TEXT_BLOCK: "Still checking your Slack user groups: submit again."},
        )
        return
    if may_broadcast(preset, sender) is not None:  # worded here: this modal's own words
        await ack(
            response_action="errors",
            errors={
                ids.TEXT_BLOCK: f"You may not use the {preset.title} broadcast. Ask a bridge "
                "admin to add you to its allowed_senders."
            },
        )
        return
    text = preset.render(severity=form.severity or "", text=form.text.strip(), sender=sender_name)
    try:
        if deps.paging is None:
            raise Rejection("Paging is not running in this bridge.")
        policy = deps.settings.escalations.get(escalation)
        if policy is not None:  # an unknown one is refused by check() below
            refuse(may_page(policy, sender, preset=preset.title))
        if not form.text.strip():
            raise Rejection("Write what is happening.")
        deps.paging.check(escalation, text)
        await deps.paging.check_room(escalation, user, within=LOOKUP_WITHIN)
    except Rejection as exc:
        await ack(response_action="errors", errors={ids.TEXT_BLOCK: exc.plain})
        return
    await acked(ack, deps, _start, client, body["view"]["id"], preset, text, user)


async def _start(
    deps: Deps,
    client: AsyncWebClient,
    view_id: str,
    preset: ResolvedBroadcast,
    text: str,
    user: str,
) -> None:
    if deps.paging is None:
        return
    try:
        await deps.paging.start(
            preset.escalation or "",
            text,
            user,
            preset.announce_in,
            idempotency_key=f"view:{view_id}",
        )
    except Rejection as exc:
        await pending.tell(client, user, f"Your page did not start: {exc.plain}")
