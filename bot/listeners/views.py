"""The modals: rebuild on a channel/type/preset change, check and submit, ack a close.

Why submissions check before the ack: Slack shows inline errors only from the ack itself, so
``plan`` (pure) runs first; the sender's usergroups were cached when the modal opened. The send
happens after the ack, keyed by the view id so a double submit sends once.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.blocks_broadcast import broadcast_modal
from bot.blocks_modal import send_modal
from bot.blocks_state import (
    ModalOrigin,
    block_for_field,
    read_broadcast_form,
    read_send_form,
)
from bot.deps import Deps
from bot.dispatch import Plan
from bot.listeners.errors import after_ack
from bot.policy import (
    Rejection,
    Sender,
    audience,
    needs_confirmation,
    sms_note,
    usable_channels,
)
from bot.service import Origin
from config import ResolvedBroadcast

log = logging.getLogger(__name__)


def user_name(body: dict[str, Any]) -> str:
    """How the broadcast template names the sender (``{sender}``)."""
    user = body.get("user") or {}
    return str(user.get("name") or user.get("username") or user.get("id") or "someone")


def usable_presets(deps: Deps, sender: Sender) -> list[ResolvedBroadcast]:
    return [
        p
        for p in deps.settings.broadcasts.values()
        if p.allows_sender(sender.user_id, sender.usergroups)
    ]


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


async def submit_send(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> None:
    view = body["view"]
    user = body["user"]["id"]
    origin = ModalOrigin.decode(view.get("private_metadata"))
    form = read_send_form(view)
    service = deps.service
    sender = await service.sender(user, origin.slack_channel)
    try:
        surface = "shortcut" if origin.surface == "shortcut" else "modal"
        plan = service.plan(form.request(), sender, surface=surface)
    except Rejection as exc:
        await ack(response_action="errors", errors={block_for_field(view, exc.field): exc.message})
        return
    if needs_confirmation([plan], deps.settings.defaults.confirm_over) and not form.confirmed:
        await ack(response_action="errors", errors={ids.CONFIRM_BLOCK: confirm_error([plan])})
        return
    await ack()
    surface = "shortcut" if origin.surface == "shortcut" else "modal"
    where = Origin(surface, user, slack_channel=origin.slack_channel, thread_ts=origin.thread_ts)
    key = f"view:{view['id']}"
    await after_ack(deps, service.submit([plan], where, idempotency_key=key, confirmed=True))


async def submit_broadcast(deps: Deps, ack: AsyncAck, body: dict[str, Any]) -> None:
    view = body["view"]
    user = body["user"]["id"]
    form = read_broadcast_form(view)
    service = deps.service
    preset = deps.settings.broadcasts.get(form.preset or "")
    sender = await service.sender(user, None)
    try:
        if preset is None:
            raise Rejection("Pick a broadcast.", field="preset")
        chosen = form.channels if form.channels is not None else preset.channels
        plans = service.plan_broadcast(
            preset.name, form.severity or "", form.text, chosen, sender, user_name(body)
        )
    except Rejection as exc:
        await ack(response_action="errors", errors={block_for_field(view, exc.field): exc.message})
        return
    if needs_confirmation(plans, deps.settings.defaults.confirm_over) and not form.confirmed:
        await ack(response_action="errors", errors={ids.CONFIRM_BLOCK: confirm_error(plans)})
        return
    await ack()
    origin = Origin("broadcast", user, report_channel=preset.announce_in, title=preset.title)
    key = f"view:{view['id']}"
    await after_ack(deps, service.submit(plans, origin, idempotency_key=key, confirmed=True))


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(ids.CHANNEL_ACTION)
    @app.action(ids.TYPE_ACTION)
    async def on_send_modal_change(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await after_ack(deps, rebuild_send_modal(deps, body, client))

    @app.action(ids.PRESET_ACTION)
    async def on_preset_change(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await after_ack(deps, rebuild_broadcast_modal(deps, body, client))

    @app.view(ids.SEND_MODAL)
    async def on_send_submit(ack: AsyncAck, body: dict[str, Any]) -> None:
        await submit_send(deps, ack, body)

    @app.view(ids.BROADCAST_MODAL)
    async def on_broadcast_submit(ack: AsyncAck, body: dict[str, Any]) -> None:
        await submit_broadcast(deps, ack, body)

    @app.view_closed(ids.SEND_MODAL)
    @app.view_closed(ids.BROADCAST_MODAL)
    @app.view_closed(ids.NOTICE_MODAL)
    async def on_modal_closed(ack: AsyncAck) -> None:
        await ack()
