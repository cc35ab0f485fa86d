"""``check``'s words for how each person is reached (rules, quiet hours) and for the canaries.

Why words: the operator reading ``check`` before a deploy should see "SMS by oncall-sms after
2m", not a YAML echo, and see at once which paths are proven on a schedule and how.
"""

from __future__ import annotations

from datetime import time

from config.durations import format_duration
from config.numbers import mask_address
from config.settings import Canary, Person, Quiet, Settings, no_receipts_reason


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M")


def quiet_words(quiet: Quiet) -> str:
    return (
        f"quiet {_clock(quiet.since)}–{_clock(quiet.until)} {quiet.timezone.key} "
        "(holds low-urgency pages)"
    )


def reach_words(person: Person) -> list[str]:
    """One line for the rules (in order, with their delays) and one for quiet hours."""
    lines: list[str] = []
    if person.reach:
        rules = [
            f"{rule.via} after {format_duration(rule.after)}"
            if rule.after
            else f"{rule.via} at once"
            for rule in person.reach
        ]
        lines.append("reach: " + ", then ".join(rules))
    else:
        lines.append("reach: the escalation step's via")
    if person.quiet is not None:
        lines.append(quiet_words(person.quiet))
    return lines


def canary_when(canary: Canary) -> str:
    every = format_duration(canary.every)
    if canary.at is None:
        return f"every {every}"
    return f"every {every} at {_clock(canary.at)} {canary.timezone.key}"


def describe_canaries(settings: Settings) -> list[str]:
    if not settings.canaries:
        return []
    lines = ["", "Canaries (python -m bot check --live runs each once, for real)"]
    for canary in settings.canaries.values():
        channel = settings.channels.get(canary.channel)
        blind = no_receipts_reason(settings, channel) if channel is not None else None
        judged = (
            f"passes when the provider accepts it ({blind})"
            if blind
            else f"must be delivered within {format_duration(canary.within)}"
        )
        lines += [
            f"  {canary.channel}  to {mask_address(canary.to)}, {canary_when(canary)}",
            f"    {judged}; failures posted in {canary.announce_in}",
        ]
    return lines
