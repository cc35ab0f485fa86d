"""Slack's words for a canary: a failure (what failed, the provider's reason, what to do) and the
recovery that follows it, so the team knows the path is proven again without asking."""

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


def canary_recovered_text(
    channel: str, to: str, last_reason: str | None, request_id: str | None
) -> Mrkdwn:
    record = md(" (request {})", request_id) if request_id else md("")
    before = md(" (it had failed: {})", last_reason) if last_reason else md("")
    return md(
        ":white_check_mark: *Canary for `{}` passed again*{}. Pages through {} are getting "
        "through. Test message to {}{}.",
        channel,
        before,
        channel,
        mask_address(to),
        record,
    )
