"""The one Slack message of a phone test: each way the person is paged and its result so far.

Why one message that updates: the person watches their phone and this message side by side; a
line per method turning from "sending" to "delivered" (or "failed: wallet too low") is the whole
story, without a thread to open.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.proving.phone_test import MethodResult
from bot.proving.verdicts import Result
from bot.slack.mrkdwn import Mrkdwn, context, join, md, section
from config.numbers import mask_address
from config.settings import Person, Settings

_SHOWN = {
    Result.WAITING: ":hourglass_flowing_sand: sending…",
    Result.SENT: ":outbox_tray: sent",
    Result.DELIVERED: ":white_check_mark: delivered",
    Result.FAILED: ":x: failed",
}


def _who(person: Person) -> Mrkdwn:
    return md("<@{}>", person.slack) if person.slack else md("{}", person.name)


def _line(settings: Settings, result: MethodResult) -> Mrkdwn:
    method, verdict = result.method, result.verdict
    channel = settings.channels.get(method.channel)
    kind = "SMS" if channel is not None and channel.service.value == "sms" else "WhatsApp"
    shown = _SHOWN[verdict.result]
    if verdict.result is Result.WAITING and verdict.reason:
        shown = ":hourglass_flowing_sand: sent"
    line = md(
        "• {} by `{}` to {}: {}",
        kind,
        method.channel,
        mask_address(method.address),
        Mrkdwn(shown),
    )
    if verdict.reason:
        line = md("{} — {}", line, verdict.reason)
    return line


def phone_test_title(person: Person, asker: str | None) -> Mrkdwn:
    by = md(" (asked by <@{}>)", asker) if asker and asker != person.slack else md("")
    return md("Phone test of {}{}", _who(person), by)


def phone_test_blocks(
    settings: Settings, person: Person, asker: str | None, results: Sequence[MethodResult]
) -> list[Any]:
    lines = join("\n", [_line(settings, r) for r in results])
    done = all(r.verdict.final for r in results)
    footer = (
        md("Done. The test said it was a test and needed no answer.")
        if done
        else md("Each line updates as the providers report.")
    )
    return [
        section(md("*{}*\n{}", phone_test_title(person, asker), lines)),
        context(footer),
    ]
