"""Block Kit for the ephemeral replies: help, list, status, history, queued, confirm prompt.

Pure functions from settings and records to JSON-ready dicts built with ``slack_sdk``'s Block Kit
models (which check Slack's limits); no I/O, so every reply can be tested on its own. Modals live
in ``bot.slack.modal_send`` and ``modal_broadcast``; reading a modal's state in
``bot.slack.forms``. Numbers are always masked (``config.numbers.mask_address``). Every mrkdwn
text is ``Mrkdwn`` (user parts escaped) and every text is cut by ``bot.slack.mrkdwn.fit`` at its
field's limit, so no reply can mention anyone or be refused by Slack for its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import ActionsBlock

from bot.slack import ids
from bot.slack.mrkdwn import (
    Block,
    Limit,
    Mrkdwn,
    button,
    context,
    escape,
    join,
    md,
    mrkdwn,
    option,
    plain,
    section,
)
from bot.values import RequestRecord, RequestStatus
from config import ResolvedChannel, mask_address
from providers import REGISTRY
from providers.base import MessageType

MAX_MESSAGE_BLOCKS = int(Limit.MESSAGE_BLOCKS)
MAX_SECTION_TEXT = int(Limit.TEXT)
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


__all__ = ["Block", "button", "context", "mrkdwn", "option", "plain", "section"]


def provider_name(channel: ResolvedChannel) -> str:
    provider = REGISTRY.get(channel.provider_type)
    return provider.display_name if provider is not None else channel.provider_type


def type_names(types: Iterable[MessageType]) -> list[str]:
    chosen = set(types)
    return [t.value for t in TYPE_ORDER if t in chosen]


def plain_preview(addresses: Sequence[str], shown: int = SHOWN_RECIPIENTS) -> str:
    """``masked_preview`` for plain_text fields (hints): no code spans, nothing escaped."""
    rest = len(addresses) - shown
    more = f" and {rest} more" if rest > 0 else ""
    return ", ".join(mask_address(a) for a in addresses[:shown]) + more


def masked_preview(addresses: Sequence[str], shown: int = SHOWN_RECIPIENTS) -> Mrkdwn:
    """``+2547•••678, +2547•••432 and 5 more``."""
    head = join(", ", (md("`{}`", mask_address(a)) for a in addresses[:shown]))
    rest = len(addresses) - shown
    return md("{}{}", head, md(" and {} more", rest) if rest > 0 else "")


# --- help and list ------------------------------------------------------------------------------


def _channel_names(channels: Sequence[ResolvedChannel]) -> Mrkdwn:
    if not channels:
        return md("none here. Ask a bridge admin to add you to a channel's `allowed_senders`.")
    return join(", ", (md("`{}`", c.name) for c in channels))


def help_blocks(command: str, channels: Sequence[ResolvedChannel]) -> list[Block]:
    """Every form of the command, and the channels this person may use from here."""
    lines = [
        "• `{c}` — open the send form",
        "• `{c} &lt;channel&gt; &lt;message&gt;` — send to the channel's own recipients",
        "• `{c} &lt;channel&gt; +254712345678,+254700000001 &lt;message&gt;` — send to these "
        "numbers instead (only channels that take numbers of your own)",
        "• `{c} list` — the channels you can use here and who they reach",
        "• `{c} status &lt;request-id&gt;` — how an earlier send went (or a page: "
        "`{c} status &lt;page-id&gt;`)",
        "• `{c} history` — your recent sends",
        "• `{c} page &lt;escalation&gt; &lt;text&gt;` — page through an escalation until "
        "someone acknowledges",
        "• `{c} ack &lt;page-id&gt;` — acknowledge a page: no later step runs",
        "• `{c} oncall [schedule]` — who is on call now, until when, and who is next",
        "• `{c} test-me` — a test message through each way you are paged, with each result",
        "• `{c} alerts` — alerts from monitoring firing now, and their pages",
        "• `{c} silence &lt;integration&gt; &lt;duration&gt; [label=value …] [reason]` — "
        "alerts that match page nobody for a while (`{c} silences` lists them, "
        "`{c} unsilence &lt;id&gt;` ends one)",
        "• `{c} help` — this help",
    ]
    usage = join("\n", (md(line, c=command) for line in lines))
    return [
        section(md("*How to send with {}*\n{}", command, usage)),
        section(md("*Channels you can use here:* {}", _channel_names(channels))),
        context(
            md(
                'Quote the message if it starts with a long number: `{} oncall-sms "5000000 '
                'users affected"`. `help`, `list`, `status`, `history`, `page`, '
                "`ack`, `oncall`, `alerts`, `silence`, `silences` and `unsilence` are always "
                "commands, never channel names.",
                command,
            )
        ),
    ]


def help_text(command: str, channels: Sequence[ResolvedChannel]) -> Mrkdwn:
    names = join(", ", (c.name for c in channels)) if channels else md("none")
    return md("How to use {}. Channels you can use here: {}", command, names)


def channel_line(channel: ResolvedChannel) -> Mrkdwn:
    """One channel as ``/send list`` shows it."""
    n = len(channel.recipients)
    reaches = (
        md("reaches {}: {}", n, masked_preview(channel.recipients))
        if n
        else md("no recipients of its own (give numbers)")
    )
    adhoc = "you may add numbers" if channel.allow_adhoc else "its own recipients only"
    return md(
        "*{}* — {} {}\n{} · {} · types: {}",
        channel.name,
        provider_name(channel),
        channel.service.value,
        reaches,
        adhoc,
        ", ".join(type_names(channel.message_types)),
    )


def list_blocks(command: str, channels: Sequence[ResolvedChannel]) -> list[Block]:
    if not channels:
        return [section(md("*Channels you can use here:* {}", _channel_names(channels)))]
    blocks: list[Block] = [section(md("*Channels you can use here* ({})", len(channels)))]
    room = MAX_MESSAGE_BLOCKS - 2
    blocks += [section(channel_line(c)) for c in channels[:room]]
    if len(channels) > room:
        blocks.append(context(md("…and {} more.", len(channels) - room)))
    else:
        blocks.append(context(md("Send with `{} &lt;channel&gt; &lt;message&gt;`.", command)))
    return blocks


def list_text(channels: Sequence[ResolvedChannel]) -> Mrkdwn:
    names = join(", ", (c.name for c in channels)) if channels else md("none")
    return md("Channels you can use here: {}", names)


# --- status and history -------------------------------------------------------------------------


def counts_line(counts: dict[str, int], total: int | None = None) -> Mrkdwn:
    """``sent 2 · failed 1 (of 3)``; the store's counts may carry a ``total`` of their own."""
    parts = [md("{} {}", STATUS_WORDS[s], counts[s]) for s in STATUS_ORDER if counts.get(s)]
    parts += [
        md("{} {}", k, v) for k, v in counts.items() if k not in STATUS_WORDS and k != "total" and v
    ]
    line = join(" · ", parts) if parts else md("no recipients")
    return md("{} (of {})", line, total) if total is not None else line


def _what(record: RequestRecord) -> Mrkdwn:
    return md("{} to `{}`", record.message.type.value, record.channel)


def _who(user_id: str | None, nobody: str) -> Mrkdwn:
    """A mention of the Slack user who sent (an id from Slack, escaped all the same)."""
    return md("<@{}>", user_id) if user_id else escape(nobody)


def _when(record: RequestRecord) -> Mrkdwn:
    stamp = int(record.created_at.timestamp())
    fallback = record.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return md("<!date^{}^{{date_short_pretty}} {{time}}|{}>", stamp, fallback)


def status_blocks(status: RequestStatus) -> list[Block]:
    record = status.record
    head = md(
        "*{}* — {} by {}, {} · *{}*\n{}",
        record.request_id,
        _what(record),
        _who(record.user_id, "the terminal"),
        _when(record),
        record.state.value,
        counts_line(status.counts, record.total),
    )
    blocks: list[Block] = [section(head)]
    lines = []
    for r in status.recipients[:SHOWN_STATUS_LINES]:
        word = STATUS_WORDS.get(r.status.value, r.status.value)
        failed = r.reason and r.status.value in ("failed", "unknown")
        reason = md(": {}", r.reason) if failed else ""
        lines.append(md("`{}` — {}{}", mask_address(r.address), word, reason))
    if lines:
        blocks.append(section(join("\n", lines)))
    hidden = len(status.recipients) - SHOWN_STATUS_LINES
    if hidden > 0:
        blocks.append(context(md("…and {} more recipients.", hidden)))
    return blocks


def status_text(status: RequestStatus) -> Mrkdwn:
    record = status.record
    counts = counts_line(status.counts, record.total)
    return md("{}: {}, {}", record.request_id, record.state.value, counts)


def unknown_request_text(request_id: str, command: str) -> Mrkdwn:
    return md(
        "There is no request `{}`. Request ids look like `R7K2M9QXA`; `{} history` lists yours.",
        request_id,
        command,
    )


def history_blocks(statuses: Sequence[RequestStatus], command: str) -> list[Block]:
    """This person's recent requests, newest first."""
    if not statuses:
        return [section(md("You have not sent anything through the bridge yet."))]
    lines = [
        md(
            "`{}` · {} · {} · {}",
            s.record.request_id,
            _what(s.record),
            _when(s.record),
            counts_line(s.counts, s.record.total),
        )
        for s in statuses
    ]
    return [
        section(md("*Your recent sends*\n{}", join("\n", lines))),
        context(md("Details: `{} status &lt;request-id&gt;`.", command)),
    ]


# --- after a send is accepted -------------------------------------------------------------------


def queued_text(
    request_id: str,
    recipients: int,
    channel: str,
    where: str = "this channel",
    sms: str | None = None,
) -> Mrkdwn:
    people = "recipient" if recipients == 1 else "recipients"
    cost = md("{}, to each. ", sms) if sms else ""
    return md(
        "Queued {} to {} {} of `{}`. {}Results will be posted in {}.",
        request_id,
        recipients,
        people,
        channel,
        cost,
        where,
    )


def already_queued_text(request_id: str) -> Mrkdwn:
    return md("Already queued as {}; nothing new was sent.", request_id)


def rejected_text(message: str) -> Mrkdwn:
    """``message`` is a refusal in Slack's words (``bot.slack.refusals``: ``Mrkdwn``, which may
    mention people on purpose); any plain ``str`` is user-reachable words and is escaped."""
    return md("{} Nothing was sent.", message)


def confirm_prompt_text(who: str, channel: str, sms: str | None = None) -> Mrkdwn:
    cost = md(" ({}, to each)", sms) if sms else ""
    return md("This sends to {} through {}{}. Send?", who, channel, cost)


def confirm_prompt_blocks(
    group_id: str, who: str, channel: str, sms: str | None = None
) -> list[Block]:
    """The question a held send asks its sender (over ``defaults.confirm_over`` recipients, or
    to a contact tag); ``who`` is ``policy.audience``'s words, ``sms`` ``policy.sms_note``'s."""
    cost = f" ({sms}, to each)" if sms else ""
    return [
        section(md(":warning: This sends to *{}* through `{}`{}. Send?", who, channel, cost)),
        ActionsBlock(
            block_id="confirm_send",
            elements=[
                button(ids.CONFIRM_SEND, "Send", group_id, style="primary"),
                button(ids.CANCEL_SEND, "Cancel", group_id),
            ],
        ).to_dict(),
    ]


SENDING_TEXT = md("Sending…")
CANCELLED_TEXT = md("Cancelled — nothing was sent.")
ERROR_TEXT = (
    "Something went wrong in the bridge (reference `{ref}`). If you were sending, check "
    "`{command} history` before trying again, so nobody gets the message twice."
)
