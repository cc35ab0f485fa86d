"""The modals: rebuild on a channel/type/preset change, check and submit, ack a close.

Why submissions check before the ack: Slack shows inline errors only from the ack itself, so
``plan`` (pure) runs first; the sender's usergroups were cached when the modal opened (if they
are not known within LOOKUP_WITHIN, the ack comes first and the decision after: pending.py).
The send happens after the ack, keyed by the view id so a double submit sends once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.directory import LOOKUP_WITHIN, MembershipPending
from bot.policy import (
    Rejection,
    Sender,
    audience,
    needs_confirmation,
    sms_note,
    usable_channels,
)
from bot.policy import (
    usable_presets as policy_presets,
)
from bot.slack import ids
from bot.slack import messages as blocks
from bot.slack.deps import Deps
from bot.slack.forms import (
    ModalOrigin,
    block_for_field,
    read_broadcast_form,
    read_send_form,
)
from bot.slack.listeners import pending
from bot.slack.listeners.broadcast_page import submit_page
from bot.slack.listeners.context import acked, deps_of
from bot.slack.modal_broadcast import broadcast_modal
from bot.slack.modal_send import send_modal
from bot.slack.refusals import rejection_text
from bot.values import Origin, Plan, Submission, Surface
from config import ResolvedBroadcast

log = logging.getLogger(__name__)


def user_name(body: dict[str, Any]) -> str:
    """How the broadcast template names the sender (``{sender}``)."""
    user = body.get("user") or {}
    return str(user.get("name") or user.get("username") or user.get("id") or "someone")


def usable_presets(deps: Deps, sender: Sender) -> list[ResolvedBroadcast]:
    return policy_presets(deps.settings, sender)


def confirm_error(plans: list[Plan]) -> str:
    sms = sms_note(plans)
    return (
        f"This sends to {audience(plans)}{f' ({sms}, to each)' if sms else ''} — tick to confirm."
    )


async def _update(client: AsyncWebClient, view: dict[str, Any], new: dict[str, Any]) -> None:
    """Replace the modal; a hash conflict means a newer change is already being applied."""
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise
        log.info("modal changed again before our update; skipped", extra={"view": view["id"]})


async def rebuild_send_modal(deps: Deps, body: dict[str, Any], client: AsyncWebClient) -> None:
    view = body["view"]
    origin = ModalOrigin.decode(view.get("private_metadata"))
    sender = await deps.service.sender(body["user"]["id"], origin.slack_channel)
    new = send_modal(
        usable_channels(deps.settings, sender),
        read_send_form(view),
        origin,
        deps.settings.defaults.confirm_over,
    )
    await _update(client, view, new)


async def rebuild_broadcast_modal(deps: Deps, body: dict[str, Any], client: AsyncWebClient) -> None:
    view = body["view"]
    sender = await deps.service.sender(body["user"]["id"], None)
    presets = usable_presets(deps, sender)
    if not presets:
        return
    form = read_broadcast_form(view)
    settings = deps.settings
    new = broadcast_modal(
        presets, form, settings.channels, settings.defaults.confirm_over, user_name(body)
    )
    await _update(client, view, new)


def _send_plan(deps: Deps, body: dict[str, Any], sender: Sender) -> Plan:
    """The submitted send modal as a Plan; a Rejection names the field at fault."""
    view = body["view"]
    origin = ModalOrigin.decode(view.get("private_metadata"))
    surface = Surface.SHORTCUT if origin.surface == "shortcut" else Surface.MODAL
    form = read_send_form(view)
    plan = deps.service.plan(form.request(), sender, surface=surface)
    if needs_confirmation([plan], deps.settings.defaults.confirm_over) and not form.confirmed:
        raise Rejection(confirm_error([plan]), field="confirm")
    return plan


async def _submit_send(deps: Deps, body: dict[str, Any], plan: Plan) -> Submission:
    view = body["view"]
    origin = ModalOrigin.decode(view.get("private_metadata"))
    surface = Surface.SHORTCUT if origin.surface == "shortcut" else Surface.MODAL
    user = body["user"]["id"]
    where = Origin(surface, user, slack_channel=origin.slack_channel, thread_ts=origin.thread_ts)
    key = f"view:{view['id']}"
    return await deps.service.submit([plan], where, idempotency_key=key, confirmed=True)


async def submit_send(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
) -> None:
    view = body["view"]
    origin = ModalOrigin.decode(view.get("private_metadata"))
    try:
        sender = await deps.service.sender(
            body["user"]["id"], origin.slack_channel, within=LOOKUP_WITHIN
        )
    except MembershipPending:
        # the modal closes; the person hears the outcome by DM
        await acked(ack, deps, decide_later, body, client, _send_plan, _submit_send)
        return
    try:
        plan = _send_plan(deps, body, sender)
    except Rejection as exc:
        field = ids.CONFIRM_BLOCK if exc.field == "confirm" else block_for_field(view, exc.field)
        await ack(response_action="errors", errors={field: exc.plain})
        return
    await acked(ack, deps, _submit_send, body, plan)


async def decide_later(
    deps: Deps,
    body: dict[str, Any],
    client: AsyncWebClient,
    planner: Callable[[Deps, dict[str, Any], Sender], Any],
    submitter: Callable[[Deps, dict[str, Any], Any], Awaitable[Submission]],
) -> None:
    """After the ack, once the user's groups are known: send if allowed, and say so by DM."""
    user = body["user"]["id"]
    origin = ModalOrigin.decode(body["view"].get("private_metadata"))
    channel = origin.slack_channel if body["view"].get("callback_id") == ids.SEND_MODAL else None
    sender = await deps.service.sender(user, channel)
    try:
        planned = planner(deps, body, sender)
    except Rejection as exc:
        await pending.tell(client, user, blocks.rejected_text(rejection_text(exc)))
        return
    submission = await submitter(deps, body, planned)
    await pending.tell(client, user, f"Checked and queued as {submission.group_id}.")


def _broadcast_plans(deps: Deps, body: dict[str, Any], sender: Sender) -> list[Plan]:
    form = read_broadcast_form(body["view"])
    preset = deps.settings.broadcasts.get(form.preset or "")
    if preset is None:
        raise Rejection("Pick a broadcast.", field="preset")
    chosen = form.channels if form.channels is not None else preset.channels
    plans = deps.service.plan_broadcast(
        preset.name, form.severity or "", form.text, chosen, sender, user_name(body)
    )
    if needs_confirmation(plans, deps.settings.defaults.confirm_over) and not form.confirmed:
        raise Rejection(confirm_error(plans), field="confirm")
    return plans


async def _submit_broadcast(deps: Deps, body: dict[str, Any], plans: list[Plan]) -> Submission:
    form = read_broadcast_form(body["view"])
    preset = deps.settings.broadcasts[form.preset or ""]
    user = body["user"]["id"]
    origin = Origin(Surface.BROADCAST, user, report_channel=preset.announce_in, title=preset.title)
    key = f"view:{body['view']['id']}"
    return await deps.service.submit(plans, origin, idempotency_key=key, confirmed=True)


async def submit_broadcast(
    deps: Deps, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
) -> None:
    view = body["view"]
    preset = deps.settings.broadcasts.get(read_broadcast_form(view).preset or "")
    if preset is not None and preset.escalation is not None:
        await submit_page(deps, ack, body, client, preset, user_name(body))
        return
    try:
        sender = await deps.service.sender(body["user"]["id"], None, within=LOOKUP_WITHIN)
    except MembershipPending:
        await acked(ack, deps, decide_later, body, client, _broadcast_plans, _submit_broadcast)
        return
    try:
        plans = _broadcast_plans(deps, body, sender)
    except Rejection as exc:
        field = ids.CONFIRM_BLOCK if exc.field == "confirm" else block_for_field(view, exc.field)
        await ack(response_action="errors", errors={field: exc.plain})
        return
    await acked(ack, deps, _submit_broadcast, body, plans)


async def on_send_modal_change(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """A channel or message type was picked: the fields follow it."""
    await acked(ack, deps_of(context), rebuild_send_modal, body, client)


async def on_preset_change(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await acked(ack, deps_of(context), rebuild_broadcast_modal, body, client)


async def on_send_submit(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await submit_send(deps_of(context), ack, body, client)


async def on_broadcast_submit(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await submit_broadcast(deps_of(context), ack, body, client)


async def on_modal_closed(ack: AsyncAck) -> None:
    await ack()
