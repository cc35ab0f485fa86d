"""Block Kit for the ephemeral replies: help, list, status, history, queued, confirm prompt.

Pure functions from settings and records to JSON-ready dicts; no I/O, so every reply can be
tested on its own. Modals live in ``bot.blocks_modal``; reading a modal's state in
``bot.blocks_state``. Numbers are always masked (``config.numbers.mask_address``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot import ids
from config import ResolvedChannel, mask_address
from providers import REGISTRY
from providers.base import MessageType

Block = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50  # Slack's limit for a message
MAX_SECTION_TEXT = 3000
SHOWN_RECIPIENTS = 3  # how many masked addresses a channel's line shows
SHOWN_STATUS_LINES = 25

STATUS_ORDER = ("pending", "in_flight", "sent", "delivered", "read", "failed", "unknown")
STATUS_WORDS = {
    "pending": "waiting",
    "in_flight": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "unknown": "unknown",
}
TYPE_ORDER = tuple(MessageType)


# --- small element helpers (shared with bot.blocks_modal) --------------------------------------


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut(text, MAX_SECTION_TEXT)}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    opt: dict[str, Any] = {"text": plain(text, 75), "value": value}
    if description:
        opt["description"] = plain(description, 75)
    return opt


def _cut(text: str, limit: int) -> str:
    """Slack rejects over-long text; a visible ellipsis is better than a failed reply."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def provider_name(channel: ResolvedChannel) -> str:
    provider = REGISTRY.get(channel.provider_type)
    return provider.display_name if provider is not None else channel.provider_type


def type_names(types: Iterable[MessageType]) -> list[str]:
    chosen = set(types)
    return [t.value for t in TYPE_ORDER if t in chosen]


def masked_preview(addresses: Sequence[str], shown: int = SHOWN_RECIPIENTS) -> str:
    """``+2547•••678, +2547•••432 and 5 more``."""
    head = ", ".join(f"`{mask_address(a)}`" for a in addresses[:shown])
    rest = len(addresses) - shown
    return head + (f" and {rest} more" if rest > 0 else "")


# --- help and list ------------------------------------------------------------------------------


def _channel_names(channels: Sequence[ResolvedChannel]) -> str:
    if not channels:
        return "none here. Ask a bridge admin to add you to a channel's `allowed_senders`."
    return ", ".join(f"`{c.name}`" for c in channels)


def help_blocks(command: str, channels: Sequence[ResolvedChannel]) -> list[Block]:
    """Every form of the command, and the channels this person may use from here."""
    c = command
    usage = "\n".join(
        [
            f"• `{c}` — open the send form",
            f"• `{c} <channel> <message>` — send to the channel's own recipients",
            f"• `{c} <channel> +254712345678,+254700000001 <message>` — send to these numbers "
            "instead (only channels that take numbers of your own)",
            f"• `{c} list` — the channels you can use here and who they reach",
            f"• `{c} status <request-id>` — how an earlier send went",
            f"• `{c} history` — your recent sends",
            f"• `{c} help` — this help",
        ]
    )
    return [
        section(f"*How to send with {c}*\n{usage}"),
        section(f"*Channels you can use here:* {_channel_names(channels)}"),
        context(
            f'Quote the message if it starts with a long number: `{c} oncall-sms "5000000 users '
            f'affected"`. `help`, `list`, `status` and `history` are always commands, never '
            "channel names."
        ),
    ]


def help_text(command: str, channels: Sequence[ResolvedChannel]) -> str:
    return f"How to use {command}. Channels you can use here: " + (
        ", ".join(c.name for c in channels) or "none"
    )


def channel_line(channel: ResolvedChannel) -> str:
    """One channel as ``/send list`` shows it."""
    n = len(channel.recipients)
    reaches = (
        f"reaches {n}: {masked_preview(channel.recipients)}"
        if n
        else "no recipients of its own (give numbers)"
    )
    adhoc = "you may add numbers" if channel.allow_adhoc else "its own recipients only"
    types = ", ".join(type_names(channel.message_types))
    return (
        f"*{channel.name}* — {provider_name(channel)} {channel.service.value}\n"
        f"{reaches} · {adhoc} · types: {types}"
    )


def list_blocks(command: str, channels: Sequence[ResolvedChannel]) -> list[Block]:
    if not channels:
        return [section(f"*Channels you can use here:* {_channel_names(channels)}")]
    blocks: list[Block] = [section(f"*Channels you can use here* ({len(channels)})")]
    room = MAX_MESSAGE_BLOCKS - 2
    blocks += [section(channel_line(c)) for c in channels[:room]]
    if len(channels) > room:
        blocks.append(context(f"…and {len(channels) - room} more."))
    else:
        blocks.append(context(f"Send with `{command} <channel> <message>`."))
    return blocks


def list_text(channels: Sequence[ResolvedChannel]) -> str:
    return "Channels you can use here: " + (", ".join(c.name for c in channels) or "none")


# --- status and history -------------------------------------------------------------------------


def counts_line(counts: dict[str, int], total: int | None = None) -> str:
    """``sent 2 · failed 1 (of 3)``; the store's counts may carry a ``total`` of their own."""
    parts = [f"{STATUS_WORDS[s]} {counts[s]}" for s in STATUS_ORDER if counts.get(s)]
    parts += [f"{k} {v}" for k, v in counts.items() if k not in STATUS_WORDS and k != "total" and v]
    line = " · ".join(parts) or "no recipients"
    return f"{line} (of {total})" if total is not None else line


def _what(record: Any) -> str:
    kind = record.message.type.value
    return f"{kind} to `{record.channel}`"


def _when(record: Any) -> str:
    stamp = int(record.created_at.timestamp())
    fallback = record.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def status_blocks(status: Any) -> list[Block]:
    """``status``: a ``bot.service.RequestStatus`` (record, counts, recipients)."""
    record = status.record
    who = f"<@{record.user_id}>" if record.user_id else "the terminal"
    head = (
        f"*{record.request_id}* — {_what(record)} by {who}, {_when(record)} · "
        f"*{record.state.value}*\n{counts_line(status.counts, record.total)}"
    )
    blocks: list[Block] = [section(head)]
    lines = []
    for r in status.recipients[:SHOWN_STATUS_LINES]:
        word = STATUS_WORDS.get(r.status.value, r.status.value)
        reason = f": {r.reason}" if r.reason and r.status.value in ("failed", "unknown") else ""
        lines.append(f"`{mask_address(r.address)}` — {word}{reason}")
    if lines:
        blocks.append(section("\n".join(lines)))
    hidden = len(status.recipients) - SHOWN_STATUS_LINES
    if hidden > 0:
        blocks.append(context(f"…and {hidden} more recipients."))
    return blocks


def status_text(status: Any) -> str:
    record = status.record
    return f"{record.request_id}: {record.state.value}, {counts_line(status.counts, record.total)}"


def unknown_request_text(request_id: str, command: str) -> str:
    return (
        f"There is no request `{request_id}`. Request ids look like `R7K2M9QXA`; "
        f"`{command} history` lists yours."
    )


def history_blocks(statuses: Sequence[Any], command: str) -> list[Block]:
    """``statuses``: ``bot.service.RequestStatus`` for this person's recent requests."""
    if not statuses:
        return [section("You have not sent anything through the bridge yet.")]
    lines = [
        f"`{s.record.request_id}` · {_what(s.record)} · {_when(s.record)} · "
        f"{counts_line(s.counts, s.record.total)}"
        for s in statuses
    ]
    return [
        section("*Your recent sends*\n" + "\n".join(lines)),
        context(f"Details: `{command} status <request-id>`."),
    ]


# --- after a send is accepted -------------------------------------------------------------------


def queued_text(
    request_id: str,
    recipients: int,
    channel: str,
    where: str = "this channel",
    sms: str | None = None,
) -> str:
    people = "recipient" if recipients == 1 else "recipients"
    return (
        f"Queued {request_id} to {recipients} {people} of `{channel}`. "
        + (f"{sms}, to each. " if sms else "")
        + f"Results will be posted in {where}."
    )


def already_queued_text(request_id: str) -> str:
    return f"Already queued as {request_id}; nothing new was sent."


def rejected_text(message: str) -> str:
    return f"{message} Nothing was sent."


def confirm_prompt_text(who: str, channel: str, sms: str | None = None) -> str:
    cost = f" ({sms}, to each)" if sms else ""
    return f"This sends to {who} through {channel}{cost}. Send?"


def confirm_prompt_blocks(
    group_id: str, who: str, channel: str, sms: str | None = None
) -> list[Block]:
    """The question a held send asks its sender (over ``defaults.confirm_over`` recipients, or
    to a contact tag); ``who`` is ``policy.audience``'s words, ``sms`` ``policy.sms_note``'s."""
    cost = f" ({sms}, to each)" if sms else ""
    return [
        section(f":warning: This sends to *{who}* through `{channel}`{cost}. Send?"),
        {
            "type": "actions",
            "block_id": "confirm_send",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.CONFIRM_SEND,
                    "text": plain("Send", 75),
                    "style": "primary",
                    "value": group_id,
                },
                {
                    "type": "button",
                    "action_id": ids.CANCEL_SEND,
                    "text": plain("Cancel", 75),
                    "value": group_id,
                },
            ],
        },
    ]


SENDING_TEXT = "Sending…"
CANCELLED_TEXT = "Cancelled — nothing was sent."
ERROR_TEXT = (
    "Something went wrong in the bridge (reference `{ref}`). If you were sending, check "
    "`{command} history` before trying again, so nobody gets the message twice."
)
