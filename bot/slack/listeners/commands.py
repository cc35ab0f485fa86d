"""``/send``: ack at once, then parse, answer ephemerally, open the modal, or submit a send.

Why ack first: Slack gives three seconds and the sender lookup or the store may be slower; the
answer goes through ``respond`` (the response_url) after the ack. Only ``views.open`` is urgent
(the trigger expires after 3 s), so it is the first call after the sender lookup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.paging.status import is_page_id
from bot.policy import Rejection, Sender, audience, sms_note, usable_channels
from bot.requests import SendRequest
from bot.slack import messages as blocks
from bot.slack.deps import Deps
from bot.slack.forms import ModalOrigin, SendForm
from bot.slack.listeners import alerts, paging, pending, phone_test
from bot.slack.listeners.context import acked, acked_in_turn, deps_of
from bot.slack.modal_send import send_modal
from bot.slack.mrkdwn import Mrkdwn, escape, md
from bot.slack.parse import (
    Ack,
    Command,
    Help,
    History,
    List,
    OnCall,
    OpenModal,
    Page,
    ParseError,
    PhoneCheck,
    Send,
    Status,
    parse_command,
)
from bot.slack.parse_alerts import Alerts, SilenceAlerts, Silences, Unsilence
from bot.slack.refusals import rejection_text
from bot.values import Origin, Surface
from providers.base import Message

HISTORY_LIMIT = 10


def sender_note(sender: Sender) -> str:
    """Why a usergroup lookup failed, for help/list (policy adds it to denials itself)."""
    return f" {sender.note}" if sender.note else ""


async def _ephemeral(respond: AsyncRespond, text: Mrkdwn, blocks_: list[Any] | None = None) -> None:
    await respond(text=text, blocks=blocks_, response_type="ephemeral", replace_original=False)


class CommandHandler:
    """One ``/send`` invocation, after the ack."""

    def __init__(self, deps: Deps, body: dict[str, Any], respond: AsyncRespond) -> None:
        self.deps = deps
        self.body = body
        self.respond = respond
        self.user: str = body["user_id"]
        self.channel: str | None = body.get("channel_id") or None

    async def run(self, client: AsyncWebClient) -> None:
        try:
            command = parse_command(self.body.get("text") or "")
        except ParseError as exc:
            await _ephemeral(self.respond, escape(exc.message))  # plain words: inert
            return
        try:
            await self.dispatch(command, client)
        except Rejection as exc:
            await _ephemeral(self.respond, blocks.rejected_text(rejection_text(exc)))

    async def dispatch(self, command: Command, client: AsyncWebClient) -> None:
        service = self.deps.service
        name = self.deps.command
        if isinstance(command, Status) and is_page_id(command.request_id):
            sender = await service.sender(self.user, self.channel)
            text = await paging.page_status(self.deps, command.request_id, sender)
            await _ephemeral(self.respond, text)
            return
        if isinstance(command, Status):
            status = await service.status(command.request_id, self.user)
            if status is None:
                await _ephemeral(
                    self.respond, blocks.unknown_request_text(command.request_id, name)
                )
            else:
                await _ephemeral(
                    self.respond, blocks.status_text(status), blocks.status_blocks(status)
                )
            return
        if isinstance(command, History):
            statuses = await service.history(self.user, HISTORY_LIMIT)
            await _ephemeral(
                self.respond, md("Your recent sends"), blocks.history_blocks(statuses, name)
            )
            return
        if isinstance(command, OpenModal):
            await self.open_modal(client)
            return
        if isinstance(command, OnCall):
            now = self.deps.paging.clock() if self.deps.paging else datetime.now(UTC)
            await _ephemeral(self.respond, paging.oncall_text(self.deps, command, now))
            return
        if isinstance(command, Silences):
            await _ephemeral(self.respond, await alerts.silences(self.deps))
            return
        if isinstance(command, Alerts):
            await _ephemeral(self.respond, await alerts.alerts(self.deps))
            return
        sender = await service.sender(self.user, self.channel)
        if isinstance(command, SilenceAlerts):
            await _ephemeral(self.respond, await alerts.silence(self.deps, command, sender, client))
        elif isinstance(command, Unsilence):
            await _ephemeral(
                self.respond, await alerts.unsilence(self.deps, command.silence_id, sender)
            )
        elif isinstance(command, Page):
            key = f"slash:{self.body['trigger_id']}"
            await _ephemeral(self.respond, await paging.start_page(self.deps, command, sender, key))
        elif isinstance(command, PhoneCheck):
            await phone_test.run(self.deps, command, sender, self.body, client, self.respond)
        elif isinstance(command, Ack):
            await _ephemeral(
                self.respond, await paging.acknowledge(self.deps, command.page_id, sender)
            )
        elif isinstance(command, Help):
            usable = usable_channels(self.deps.settings, sender)
            text = md("{}{}", blocks.help_text(name, usable), sender_note(sender))
            await _ephemeral(self.respond, text, blocks.help_blocks(name, usable))
        elif isinstance(command, List):
            usable = usable_channels(self.deps.settings, sender)
            text = md("{}{}", blocks.list_text(usable), sender_note(sender))
            await _ephemeral(self.respond, text, blocks.list_blocks(name, usable))
        elif isinstance(command, Send):
            await self.send(command, sender)

    async def open_modal(self, client: AsyncWebClient) -> None:
        settings = self.deps.settings

        def build(sender: Sender) -> dict[str, Any]:
            return send_modal(
                usable_channels(settings, sender),
                SendForm(),
                ModalOrigin(surface="modal", slack_channel=self.channel),
                settings.defaults.confirm_over,
            )

        trigger = self.body["trigger_id"]
        await pending.open_modal(self.deps, client, trigger, self.user, self.channel, build)

    async def send(self, command: Send, sender: Sender) -> None:
        service = self.deps.service
        request = SendRequest(
            channel=command.channel, to=command.to, message=Message(text=command.text)
        )
        try:
            plan = service.plan(request, sender)
        except Rejection as exc:
            await _ephemeral(self.respond, blocks.rejected_text(rejection_text(exc)))
            return
        origin = Origin(
            Surface.SLASH,
            self.user,
            slack_channel=self.channel,
            response_url=self.body.get("response_url"),
        )
        key = f"slash:{self.body['trigger_id']}"
        submission = await service.submit([plan], origin, idempotency_key=key)
        if not submission.created:
            await _ephemeral(self.respond, blocks.already_queued_text(submission.group_id))
        elif submission.held:
            who, sms = audience([plan]), sms_note([plan])
            await _ephemeral(
                self.respond,
                blocks.confirm_prompt_text(who, plan.channel, sms),
                blocks.confirm_prompt_blocks(submission.group_id, who, plan.channel, sms),
            )
        else:
            text = blocks.queued_text(
                submission.group_id, submission.recipients, plan.channel, sms=sms_note([plan])
            )
            await _ephemeral(self.respond, text)


async def on_send(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """The slash command (``/send`` unless configured otherwise)."""
    deps = deps_of(context)
    if not (body.get("text") or "").strip():
        # Opening the modal cannot wait its turn: the trigger_id expires 3 s after the command.
        await acked(ack, deps, run, body, respond, client)
        return
    await acked_in_turn(ack, deps, run, body, respond, client)


async def run(
    deps: Deps, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    await CommandHandler(deps, body, respond).run(client)
