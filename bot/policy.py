"""Who may send what where: a SendRequest becomes a Plan, or a Rejection a person can act on.

Pure functions of (settings, sender, request): no I/O. Usergroup membership is looked up by the
caller (bot/directory.py) and passed in on the Sender, so this module stays testable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.requests import SendRequest, recipient_ref
from bot.slack.mrkdwn import Mrkdwn, escape, md, unescape
from bot.values import Plan
from config import ResolvedChannel, Settings
from config.numbers import InvalidNumber, normalize_address
from config.settings import Escalation
from providers import REGISTRY
from providers.base import MEDIA_TYPES, Message, MessageType, Recipient, RecipientKind, Service
from providers.sms_parts import count, too_many_parts


@dataclass(frozen=True)
class Sender:
    """Who asks, from where. ``usergroups``: the groups they belong to, among those that matter."""

    user_id: str
    usergroups: frozenset[str] = frozenset()
    slack_channel: str | None = None
    note: str | None = None  # why group membership could not be checked, told on a denial


class Rejection(Exception):
    """Why a request was refused and how to fix it. ``field`` names the modal input at fault.

    ``message`` is Slack mrkdwn, since refusals echo what people typed: a plain ``str`` is
    escaped whole (it can never mention anyone); one that mentions someone on purpose
    (``<@U…>``, ``<#C…>``) is built with ``md()``. ``plain`` is the words, for plain-text places.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message: Mrkdwn = escape(message)
        super().__init__(self.message)
        self.field = field

    @property
    def plain(self) -> str:
        return unescape(self.message)


def usable_channels(settings: Settings, sender: Sender | None) -> list[ResolvedChannel]:
    """The channels this sender may use from where they are (all of them for the terminal)."""
    return [
        channel
        for channel in settings.channels.values()
        if sender is None
        or (
            channel.allows_sender(sender.user_id, sender.usergroups)
            and channel.usable_in(sender.slack_channel)
        )
    ]


def usergroups_that_matter(settings: Settings) -> frozenset[str]:
    """Every usergroup any channel or broadcast refers to (what the directory must look up)."""
    groups: set[str] = set()
    for channel in settings.channels.values():
        groups |= channel.allowed_usergroups
    for broadcast in settings.broadcasts.values():
        groups |= broadcast.allowed_usergroups
    for escalation in settings.escalations.values():
        groups |= escalation.allowed_usergroups
    return frozenset(groups)


def check_may_page(escalation: Escalation, sender: Sender, *, preset: str | None = None) -> None:
    """Rejection unless the sender is among the escalation's allowed_senders. ``preset``: the
    broadcast they page through, which does not widen who may page (its own senders are
    checked too, by the caller)."""
    if sender.user_id in escalation.allowed_users or not escalation.allowed_usergroups.isdisjoint(
        sender.usergroups
    ):
        return
    through = f", which the {preset} broadcast pages through" if preset else ""
    note = f" {sender.note}" if sender.note else ""
    raise Rejection(
        f"You may not page through `{escalation.name}`{through}. Ask a bridge admin to add you "
        f"(or one of your user groups) to escalations.{escalation.name}.allowed_senders.{note}",
        field="text",
    )


def authorize(settings: Settings, channel_name: str, sender: Sender | None) -> ResolvedChannel:
    """The channel, if this sender may use it here; else a Rejection saying what to do."""
    channel = settings.channels.get(channel_name)
    if channel is None:
        names = ", ".join(c.name for c in usable_channels(settings, sender)) or "none"
        raise Rejection(
            md(
                "There is no channel called `{}`. Channels you can use here: {}.",
                channel_name,
                names,
            ),
            field="channel",
        )
    if sender is None:
        return channel
    if not channel.allows_sender(sender.user_id, sender.usergroups):
        raise Rejection(
            f"You are not allowed to send to `{channel.name}`. Ask a bridge admin to add you "
            f"(or one of your user groups) to its allowed_senders."
            + (f" {sender.note}" if sender.note else ""),
            field="channel",
        )
    if not channel.usable_in(sender.slack_channel):
        where = Mrkdwn(", ".join(md("<#{}>", c) for c in channel.slack_channels or ()))
        raise Rejection(
            md("`{}` can only be used from {}. Run the command there.", channel.name, where),
            field="channel",
        )
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
            raise Rejection(md("`{}` is not a valid number: {}", raw, exc), field="to") from None
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
