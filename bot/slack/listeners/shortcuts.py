"""Shortcuts: the on-call broadcast (global) and "send this message" (message shortcut).

Why ack, then at once ``views.open``: a shortcut's trigger_id expires three seconds after the
click; the only thing between the two is the (cached) usergroup lookup that decides what to offer.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy import Sender, usable_channels
from bot.slack.deps import Deps
from bot.slack.forms import BroadcastForm, ModalOrigin, SendForm
from bot.slack.listeners import pending
from bot.slack.listeners.context import acked, deps_of
from bot.slack.listeners.views import usable_presets, user_name
from bot.slack.modal_broadcast import broadcast_modal, broadcast_not_allowed
from bot.slack.modal_send import send_modal
from bot.slack.parse import unescape_slack

MAX_PREFILL = 3000  # Slack's limit on a text input's initial_value


def prefill(text: str) -> str:
    """A message's text as its author typed it (Slack's markup undone), within Slack's limit."""
    plain = unescape_slack(text).strip()
    return plain if len(plain) <= MAX_PREFILL else plain[: MAX_PREFILL - 1] + "…"


async def open_broadcast(deps: Deps, body: dict[str, Any], client: AsyncWebClient) -> None:
    settings = deps.settings

    def build(sender: Sender) -> dict[str, Any]:
        presets = usable_presets(deps, sender)
        if not presets:
            return broadcast_not_allowed(list(settings.broadcasts.values()))
        return broadcast_modal(
            presets,
            BroadcastForm(),
            settings.channels,
            settings.defaults.confirm_over,
            user_name(body),
        )

    user = body["user"]["id"]
    await pending.open_modal(deps, client, body["trigger_id"], user, None, build)


async def open_from_message(deps: Deps, body: dict[str, Any], client: AsyncWebClient) -> None:
    channel = (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or message.get("ts") or body.get("message_ts")

    def build(sender: Sender) -> dict[str, Any]:
        return send_modal(
            usable_channels(deps.settings, sender),
            SendForm(text=prefill(str(message.get("text") or ""))),
            ModalOrigin(surface="shortcut", slack_channel=channel, thread_ts=thread_ts),
            deps.settings.defaults.confirm_over,
        )

    user = body["user"]["id"]
    await pending.open_modal(deps, client, body["trigger_id"], user, channel, build)


async def on_broadcast_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await acked(ack, deps_of(context), open_broadcast, body, client)


async def on_message_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await acked(ack, deps_of(context), open_from_message, body, client)
