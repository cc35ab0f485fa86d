"""Pure Block Kit for result reports: the root message, its progress bar, and the failure list.

Why pure: the reporter re-renders the whole summary from the send record on every update, so a
restart, a receipt or a retry all produce the same truthful picture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import ids
from bot.store.base import RecipientRecord, RecipientStatus, RequestRecord, RequestState
from config.numbers import mask_address
from providers.base import MEDIA_TYPES, MessageType

Block = dict[str, Any]
BAR_WIDTH = 16
MAX_LISTED_PER_REASON = 10
QUOTE_LIMIT = 600


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


def _message_line(record: RequestRecord) -> str:
    message = record.message
    text = (message.text or "").strip()
    if len(text) > QUOTE_LIMIT:
        text = text[: QUOTE_LIMIT - 1] + "…"
    quoted = "\n".join("> " + line for line in text.splitlines()) if text else ""
    if message.type in MEDIA_TYPES:
        head = f"> _{message.type.value}_ {message.media_url or ''}"
        return head + ("\n" + quoted if quoted else "")
    if message.type is MessageType.TEMPLATE:
        return f"> _template {message.template_id}_" + (
            f" ({message.language})" if message.language else ""
        )
    if message.type is MessageType.INTERACTIVE:
        return "> _interactive message_"
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


def headline(views: Sequence[RequestView], title: str | None) -> str:
    first = views[0].record
    who = f"<@{first.user_id}>" if first.user_id else "A terminal user"
    total = sum(v.record.total for v in views)
    if title:
        names = ", ".join(f"*{v.record.channel}*" for v in views)
        return f":rotating_light: *{title}* by {who} to {names} — {total} recipient(s)"
    verb = "sent" if first.finished else "is sending"
    kind = "a retry of" if first.parent_request_id else f"a {first.message.type.value}"
    tail = f" request {first.parent_request_id}" if first.parent_request_id else ""
    return f"{who} {verb} {kind}{tail} to *{first.channel}* — {total} recipient(s)"


def _status_line(view: RequestView, with_name: bool) -> str:
    record = view.record
    name = f"*{record.channel}* " if with_name else ""
    state = {RequestState.CANCELLED: " — cancelled, nothing was sent"}.get(record.state, "")
    bar = progress_bar(view.done, record.total)
    queued = (
        f" · the provider queued it for {record.provider_count} people"
        if record.provider_count is not None
        else ""
    )
    return f"{_state_emoji(view)} {name}`{bar}` {_tally(view)}{queued}{state}"


def root_blocks(views: Sequence[RequestView], title: str | None = None) -> list[Block]:
    """The root message: who sent what where, live counts per channel, and the request ids."""
    first = views[0].record
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline(views, title)}}
    ]
    quote = _message_line(first)
    if quote:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": quote}})
    lines = [_status_line(v, with_name=len(views) > 1) for v in views]
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    ids_text = " · ".join(f"`{v.record.request_id}`" for v in views)
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Request {ids_text} · details: `/send status {first.request_id}`",
                }
            ],
        }
    )
    return blocks


def root_text(views: Sequence[RequestView], title: str | None = None) -> str:
    """The notification / fallback text of the root message."""
    tallies = "; ".join(f"{v.record.channel}: {_tally(v)}" for v in views)
    return f"{headline(views, title)} — {tallies}".replace("*", "")


def _by_reason(records: Sequence[RecipientRecord]) -> list[str]:
    groups: dict[str, list[RecipientRecord]] = defaultdict(list)
    for record in records:
        groups[record.reason or "no reason given by the provider"].append(record)
    lines = []
    for reason, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        shown = ", ".join(mask_address(m.address) for m in members[:MAX_LISTED_PER_REASON])
        more = len(members) - MAX_LISTED_PER_REASON
        extra = f" and {more} more" if more > 0 else ""
        lines.append(f"• {shown}{extra} — {reason}")
    return lines


def failure_blocks(
    record: RequestRecord,
    failed: Sequence[RecipientRecord],
    unknown: Sequence[RecipientRecord],
) -> list[Block]:
    """The thread reply listing failures and unknowns, with Retry buttons."""
    blocks: list[Block] = []
    if failed:
        text = f":x: *{len(failed)} failed* on *{record.channel}*:\n" + "\n".join(
            _by_reason(failed)
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    if unknown:
        text = (
            f":grey_question: *{len(unknown)} unknown* on *{record.channel}* — the provider may "
            "have received these; they are not retried on their own so nobody gets it twice:\n"
            + "\n".join(_by_reason(unknown))
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    buttons: list[Block] = []
    if failed:
        buttons.append(
            {
                "type": "button",
                "action_id": ids.RETRY_FAILED,
                "text": {"type": "plain_text", "text": f"Retry failed ({len(failed)})"},
                "style": "primary",
                "value": record.request_id,
            }
        )
    if unknown:
        buttons.append(
            {
                "type": "button",
                "action_id": ids.RETRY_UNKNOWN,
                "text": {"type": "plain_text", "text": f"Send again to unknown ({len(unknown)})…"},
                "style": "danger",
                "value": record.request_id,
                "confirm": {
                    "title": {"type": "plain_text", "text": "Send again?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": f"These {len(unknown)} people may already have the message. "
                        "Sending again may give them a second copy.",
                    },
                    "confirm": {"type": "plain_text", "text": "Send again"},
                    "deny": {"type": "plain_text", "text": "Don't send"},
                },
            }
        )
    if buttons:
        blocks.append({"type": "actions", "block_id": "retry", "elements": buttons})
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
    note = f":repeat: <@{user_id}> sent the {which} recipients again as `{new_request_id}`"
    updated.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return updated
