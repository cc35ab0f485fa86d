"""Who may send what where: a SendRequest becomes a Plan, or a Rejection a person can act on.

Pure functions of (settings, sender, request): no I/O. Usergroup membership is looked up by the
caller (bot/directory.py) and passed in on the Sender, so this module stays testable. The same
rule (``may_send``) decides a retry and a confirmed send, as a fresh send would be decided.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.policy.refusals import Reason, Refusal, Rejection, refuse
from bot.policy.senders import Sender
from bot.requests import SendRequest, recipient_ref
from bot.values import Plan
from config import ResolvedChannel, Settings
from config.numbers import InvalidNumber, normalize_address
from providers import REGISTRY
from providers.base import MEDIA_TYPES, Message, MessageType, Recipient, Service
from providers.sms_parts import too_many_parts


def usable_channels(settings: Settings, sender: Sender | None) -> list[ResolvedChannel]:
    """The channels this sender may use from where they are (all of them for the terminal)."""
    return [
        channel
        for channel in settings.channels.values()
        if sender is None or may_send(channel, sender) is None
    ]


def may_send(channel: ResolvedChannel, sender: Sender) -> Refusal | None:
    """None if this sender may send through ``channel`` from where they are."""
    if not channel.allows_sender(sender.user_id, sender.usergroups):
        return Refusal(
            Reason.NOT_CHANNEL_SENDER,
            f"You are not allowed to send to `{channel.name}`. Ask a bridge admin to add you "
            f"(or one of your user groups) to its allowed_senders.{sender.told}",
            field="channel",
            subject=channel.name,
        )
    if not channel.usable_in(sender.slack_channel):
        where = ", ".join(f"<#{c}>" for c in channel.slack_channels or ())
        return Refusal(
            Reason.ONLY_FROM,
            f"`{channel.name}` can only be used from {where}. Run the command there.",
            field="channel",
            subject=channel.name,
            slack_channels=tuple(channel.slack_channels or ()),
        )
    return None


def authorize(settings: Settings, channel_name: str, sender: Sender | None) -> ResolvedChannel:
    """The channel, if this sender may use it here; else a Rejection saying what to do.
    ``sender`` None: the bridge's terminal, or the bridge itself (a page), which may use any."""
    channel = settings.channels.get(channel_name)
    if channel is None:
        names = ", ".join(c.name for c in usable_channels(settings, sender)) or "none"
        raise Rejection(
            Refusal(
                Reason.NO_SUCH_CHANNEL,
                f"There is no channel called `{channel_name}`. Channels you can use here: {names}.",
                field="channel",
                subject=channel_name,
            )
        )
    if sender is not None:
        refuse(may_send(channel, sender))
    return channel


def check_message(channel: ResolvedChannel, message: Message) -> None:
    """Message type allowed by the channel, required parts present, within hard limits."""
    if message.type not in channel.message_types:
        takes = ", ".join(sorted(t.value for t in channel.message_types))
        raise Rejection(
            f"`{channel.name}` does not take {message.type.value} messages; it takes: {takes}.",
            field="type",
        )
    text = (message.text or "").strip()
    if message.type is MessageType.TEXT and not text:
        raise Rejection("The message is empty. Write the text to send.", field="text")
    if message.type in MEDIA_TYPES and not (message.media_url or "").strip():
        raise Rejection(
            f"A {message.type.value} message needs a media URL (https://…).", field="media_url"
        )
    if message.type is MessageType.TEMPLATE and not (message.template_id or "").strip():
        raise Rejection("A template message needs a template id.", field="template_id")
    limit = REGISTRY[channel.provider_type].text_limit.get(channel.service)
    if limit is not None and len(message.text or "") > limit:
        raise Rejection(
            f"The message is {len(message.text or '')} characters; `{channel.name}` takes at most "
            f"{limit}. Shorten it (nothing is cut for you).",
            field="text",
        )


def check_sms_parts(channel: ResolvedChannel, message: Message) -> None:
    """An SMS is billed per part, per recipient: refuse more than the channel's max_sms_parts."""
    if channel.service is not Service.SMS or message.type is not MessageType.TEXT:
        return
    problem = too_many_parts(message.text or "", channel.max_sms_parts, channel.name)
    if problem is not None:
        raise Rejection(problem, field="text")


def resolve_recipients(
    settings: Settings, channel: ResolvedChannel, adhoc: Iterable[str]
) -> tuple[str, ...]:
    """The channel's own recipients, or the ad-hoc ones typed (normalised, deduplicated)."""
    typed = [a.strip() for a in adhoc if a.strip()]
    if not typed:
        if not channel.recipients:
            raise Rejection(
                f"`{channel.name}` has no default recipients; give numbers to send to.",
                field="to",
            )
        return channel.recipients
    if not channel.allow_adhoc:
        raise Rejection(
            f"`{channel.name}` only sends to its own recipients ({len(channel.recipients)}); "
            "it does not take numbers of your own. Leave the numbers out.",
            field="to",
        )
    addresses: dict[str, None] = {}
    for raw in typed:
        named = settings.contacts.get(raw)
        if named is not None:
            addresses.update(dict.fromkeys(named))
            continue
        try:
            addresses[normalize_address(raw, settings.defaults.country)] = None
        except InvalidNumber as exc:
            raise Rejection(f"`{raw}` is not a valid number: {exc}", field="to") from None
    return tuple(addresses)


def plan_send(
    settings: Settings,
    request: SendRequest,
    *,
    sender: Sender | None,
    request_id: str,
) -> Plan:
    """Every check a send goes through, from Slack or the terminal; raises Rejection."""
    channel = authorize(settings, request.channel, sender)
    check_message(channel, request.message)
    check_sms_parts(channel, request.message)
    addresses = resolve_recipients(settings, channel, request.to)
    cap = settings.defaults.max_recipients
    if len(addresses) > cap:
        raise Rejection(
            f"That is {len(addresses)} recipients; the limit is {cap} per request. "
            "Split the list or ask an admin to raise defaults.max_recipients.",
            field="to",
        )
    recipients = tuple(
        Recipient(address=address, ref=recipient_ref(request_id, i))
        for i, address in enumerate(addresses, start=1)
    )
    return Plan(
        request_id=request_id,
        channel=channel.name,
        account=channel.provider_name,
        route=channel.route,
        message=request.message,
        recipients=recipients,
    )


def plan_to(
    settings: Settings, channel_name: str, address: str, message: Message, request_id: str
) -> Plan:
    """One message to one known address, sent by the bridge itself (a page's step): the
    channel must exist and take the message; who asks and ad-hoc numbers do not apply."""
    channel = authorize(settings, channel_name, None)
    check_message(channel, message)
    check_sms_parts(channel, message)
    return Plan(
        request_id=request_id,
        channel=channel.name,
        account=channel.provider_name,
        route=channel.route,
        message=message,
        recipients=(Recipient(address=address, ref=recipient_ref(request_id, 1)),),
    )
