"""Pure Block Kit for result reports: the root message, its progress bar, and the failure list.

Why pure: the reporter re-renders the whole summary from the send record on every update, so a
restart, a receipt or a retry all produce the same truthful picture. Every text is ``Mrkdwn``
built with ``md`` (user text, provider reasons and config names escaped), cut by ``fit`` into
``slack_sdk``'s Block Kit models, so a summary can neither mention anyone nor exceed a Slack limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ActionsBlock

from bot.slack import ids
from bot.slack.mrkdwn import (
    Limit,
    Mrkdwn,
    button,
    confirm_dialog,
    context,
    escape,
    fit,
    join,
    md,
    section,
    split_lines,
)
from bot.store.base import RecipientRecord, RecipientStatus, RequestRecord, RequestState
from config.numbers import mask_address
from providers.base import MEDIA_TYPES, MessageType

Block = dict[str, Any]
BAR_WIDTH = 16
MAX_LISTED_PER_REASON = 10
QUOTE_LIMIT = 600  # of the message's text, escaped
URL_LIMIT = 300  # of a media URL, escaped: enough to recognise it, not a page of it


@dataclass(frozen=True)
class RequestView:
    """One request and its per-status counts, as the summary shows it."""

    record: RequestRecord
    counts: Mapping[str, int]

    def count(self, *statuses: RecipientStatus) -> int:
        return sum(self.counts.get(s.value, 0) for s in statuses)

    @property
    def done(self) -> int:
        """Recipients with an outcome (anything past pending / in flight)."""
        return self.record.total - self.count(RecipientStatus.PENDING, RecipientStatus.IN_FLIGHT)

    @property
    def accepted(self) -> int:
        """Accepted by the provider, whatever receipts said since (delivered and read included)."""
        return self.count(RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.READ)


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = width if total <= 0 else width * done // total
    return "█" * filled + "░" * (width - filled)


def _message_line(record: RequestRecord) -> Mrkdwn:
    """The message quoted: escaped first, then cut, so no entity is split and no link forged."""
    message = record.message
    text = fit(escape((message.text or "").strip()), QUOTE_LIMIT)
    quoted = join("\n", (md("> {}", line) for line in split_lines(text)))
    if message.type in MEDIA_TYPES:
        url = fit(escape(message.media_url or ""), URL_LIMIT)
        head = md("> _{}_ {}", message.type.value, url)
        return md("{}\n{}", head, quoted) if quoted else head
    if message.type is MessageType.TEMPLATE:
        language = md(" ({})", message.language) if message.language else ""
        return md("> _template {}_{}", message.template_id, language)
    if message.type is MessageType.INTERACTIVE:
        return md("> _interactive message_")
    return quoted


def _tally(view: RequestView) -> str:
    parts = [f"sent {view.accepted}/{view.record.total}"]
    for label, status in (
        ("failed", RecipientStatus.FAILED),
        ("unknown", RecipientStatus.UNKNOWN),
        ("delivered", RecipientStatus.DELIVERED),
        ("read", RecipientStatus.READ),
    ):
        n = view.count(status)
        if n or label == "failed":
            parts.append(f"{label} {n}")
    return " · ".join(parts)


def _state_emoji(view: RequestView) -> str:
    record = view.record
    if record.state is RequestState.CANCELLED:
        return ":no_entry_sign:"
    if not record.finished:
        return ":hourglass_flowing_sand:"
    if view.count(RecipientStatus.FAILED, RecipientStatus.UNKNOWN) == 0:
        return ":white_check_mark:"
    if view.accepted == 0:
        return ":x:"
    return ":warning:"


def _who(user_id: str | None, nobody: str) -> Mrkdwn:
    return md("<@{}>", user_id) if user_id else escape(nobody)


def headline(views: Sequence[RequestView], title: str | None) -> Mrkdwn:
    first = views[0].record
    who = _who(first.user_id, "A terminal user")
    total = sum(v.record.total for v in views)
    if title:
        names = join(", ", (md("*{}*", v.record.channel) for v in views))
        return md(":rotating_light: *{}* by {} to {} — {} recipient(s)", title, who, names, total)
    verb = "sent" if first.finished else "is sending"
    if first.parent_request_id:
        kind = md("a retry of request {}", first.parent_request_id)
    else:
        kind = md("a {}", first.message.type.value)
    return md("{} {} {} to *{}* — {} recipient(s)", who, verb, kind, first.channel, total)


def _status_line(view: RequestView, with_name: bool) -> Mrkdwn:
    record = view.record
    name = md("*{}* ", record.channel) if with_name else ""
    state = {RequestState.CANCELLED: " — cancelled, nothing was sent"}.get(record.state, "")
    bar = progress_bar(view.done, record.total)
    queued = (
        md(" · the provider queued it for {} people", record.provider_count)
        if record.provider_count is not None
        else ""
    )
    return md("{} {}`{}` {}{}{}", _state_emoji(view), name, bar, _tally(view), queued, state)


def root_blocks(views: Sequence[RequestView], title: str | None = None) -> list[Block]:
    """The root message: who sent what where, live counts per channel, and the request ids."""
    first = views[0].record
    blocks: list[Block] = [section(headline(views, title))]
    quote = _message_line(first)
    if quote:
        blocks.append(section(quote))
    blocks.append(section(join("\n", (_status_line(v, len(views) > 1) for v in views))))
    ids_text = join(" · ", (md("`{}`", v.record.request_id) for v in views))
    blocks.append(
        context(md("Request {} · details: `/send status {}`", ids_text, first.request_id))
    )
    return blocks


def root_text(views: Sequence[RequestView], title: str | None = None) -> Mrkdwn:
    """The notification text of the root message, and all of it when Slack refuses the blocks."""
    tallies = join("; ", (md("{}: {}", v.record.channel, _tally(v)) for v in views))
    text = md(
        "{} — {} · details: `/send status {}`", headline(views, title), tallies, ids_of(views)
    )
    return fit(text, Limit.MESSAGE_TEXT)


def ids_of(views: Sequence[RequestView]) -> Mrkdwn:
    return join(", ", (v.record.request_id for v in views))


def _by_reason(records: Sequence[RecipientRecord]) -> list[Mrkdwn]:
    groups: dict[str, list[RecipientRecord]] = defaultdict(list)
    for record in records:
        groups[record.reason or "no reason given by the provider"].append(record)
    lines = []
    for reason, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        shown = join(", ", (mask_address(m.address) for m in members[:MAX_LISTED_PER_REASON]))
        more = len(members) - MAX_LISTED_PER_REASON
        extra = md(" and {} more", more) if more > 0 else ""
        lines.append(md("• {}{} — {}", shown, extra, reason))
    return lines


def _failed_text(record: RequestRecord, failed: Sequence[RecipientRecord]) -> Mrkdwn:
    head = md(":x: *{} failed* on *{}*:", len(failed), record.channel)
    return join("\n", [head, *_by_reason(failed)])


def _unknown_text(record: RequestRecord, unknown: Sequence[RecipientRecord]) -> Mrkdwn:
    head = md(
        ":grey_question: *{} unknown* on *{}* — the provider may have received these; they are "
        "not retried on their own so nobody gets it twice:",
        len(unknown),
        record.channel,
    )
    return join("\n", [head, *_by_reason(unknown)])


def failure_text(
    record: RequestRecord,
    failed: Sequence[RecipientRecord],
    unknown: Sequence[RecipientRecord],
) -> Mrkdwn:
    """The failure list as one text: the notification, and all of it when blocks are refused."""
    parts = [_failed_text(record, failed)] if failed else []
    parts += [_unknown_text(record, unknown)] if unknown else []
    parts.append(md("Details: `/send status {}`", record.request_id))
    return fit(join("\n", parts), Limit.MESSAGE_TEXT)


def failure_blocks(
    record: RequestRecord,
    failed: Sequence[RecipientRecord],
    unknown: Sequence[RecipientRecord],
) -> list[Block]:
    """The thread reply listing failures and unknowns, with Retry buttons."""
    blocks: list[Block] = []
    if failed:
        blocks.append(section(_failed_text(record, failed)))
    if unknown:
        blocks.append(section(_unknown_text(record, unknown)))
    buttons: list[Block] = []
    if failed:
        label = f"Retry failed ({len(failed)})"
        buttons.append(button(ids.RETRY_FAILED, label, record.request_id, style="primary"))
    if unknown:
        dialog = confirm_dialog(
            "Send again?",
            md(
                "These {} people may already have the message. Sending again may give them a "
                "second copy.",
                len(unknown),
            ),
            "Send again",
            "Don't send",
        )
        label = f"Send again to unknown ({len(unknown)})…"
        buttons.append(
            button(ids.RETRY_UNKNOWN, label, record.request_id, style="danger", confirm=dialog)
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="retry", elements=buttons).to_dict())
    return blocks


def mark_retried(
    blocks: Sequence[Block], action_id: str, which: str, new_request_id: str, user_id: str
) -> list[Block]:
    """The failure list after a Retry click: that button gone, a line saying who retried as what."""
    updated: list[Block] = []
    for block in blocks:
        if block.get("type") == "actions":
            kept = [e for e in block.get("elements", []) if e.get("action_id") != action_id]
            if kept:
                updated.append({**block, "elements": kept})
            continue
        updated.append(block)
    note = md(":repeat: <@{}> sent the {} recipients again as `{}`", user_id, which, new_request_id)
    updated.append(context(note))
    return updated[: Limit.MESSAGE_BLOCKS]
