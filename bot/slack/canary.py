"""Slack's words for a failed canary: what failed, the provider's reason, and what to do."""

from __future__ import annotations

from bot.slack.mrkdwn import Mrkdwn, md
from config.numbers import mask_address


def canary_failed_text(
    channel: str, to: str, reason: str, advice: str, request_id: str | None
) -> Mrkdwn:
    record = md(" (request {})", request_id) if request_id else md("")
    return md(
        ":rotating_light: *Canary for `{}` failed*: {}\n*Fix*: {}\nPages through {} may not "
        "arrive until it is fixed. Test message to {}{}.",
        channel,
        reason,
        advice,
        channel,
        mask_address(to),
        record,
    )
