"""``/send silence``, ``/send silences``, ``/send unsilence`` and ``/send alerts``: the text in,
a command out (or a ``ParseError`` saying how to write it). Pure, like ``bot.slack.parse``.

Why ``label=value`` tokens come before the reason: a reason is free text and may hold ``=``;
the matchers end at the first token that is not one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError

from config.durations import Duration

SILENCE_USAGE = (
    "usage: /send silence <integration> <duration> [label=value …] [reason], "
    "e.g. /send silence prod-am 2h instance=db-1 disk swap"
)
UNSILENCE_USAGE = "usage: /send unsilence <silence-id>, e.g. /send unsilence S7K3QX9A2"
MAX_MATCHERS = 20
MAX_REASON = 300  # characters: shown in every silenced group's message
MAX_LABEL = 200  # characters of a label's name or value
_TOKEN = re.compile(r"\s*(\S+)")
_MATCHER = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)=(.*)$")
_DURATION: TypeAdapter[timedelta] = TypeAdapter(Duration)


@dataclass(frozen=True)
class SilenceAlerts:
    """``/send silence <integration> <duration> [label=value …] [reason]``."""

    integration: str
    duration: timedelta
    matchers: tuple[tuple[str, str], ...]
    reason: str


@dataclass(frozen=True)
class Silences:
    """``/send silences``: the silences in force."""


@dataclass(frozen=True)
class Unsilence:
    """``/send unsilence <silence-id>``."""

    silence_id: str


@dataclass(frozen=True)
class Alerts:
    """``/send alerts``: the groups firing now."""


AlertCommand = SilenceAlerts | Silences | Unsilence | Alerts
ALERT_KEYWORDS = frozenset({"silence", "silences", "unsilence", "alerts"})


class AlertParseError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        return value[1:-1]
    return value


def parse_alert_command(keyword: str, text: str, pos: int) -> AlertCommand:
    """``keyword`` (one of ``ALERT_KEYWORDS``) and the text after it, from ``pos``."""
    if keyword == "silences":
        return Silences()
    if keyword == "alerts":
        return Alerts()
    first = _TOKEN.match(text, pos)
    if keyword == "unsilence":
        if first is None:
            raise AlertParseError(UNSILENCE_USAGE)
        return Unsilence(first.group(1).strip("`'\"").upper())
    second = _TOKEN.match(text, first.end()) if first is not None else None
    if first is None or second is None:
        raise AlertParseError(SILENCE_USAGE)
    try:
        duration = _DURATION.validate_python(second.group(1))
    except ValidationError:
        raise AlertParseError(
            f"{second.group(1)[:20]!r} is not a duration: write it with a unit, e.g. 30m, 2h "
            f"or 1d. {SILENCE_USAGE}"
        ) from None
    matchers: dict[str, str] = {}
    at = second.end()
    while (token := _TOKEN.match(text, at)) is not None:
        found = _MATCHER.match(token.group(1))
        if found is None:
            break
        name, value = found.group(1), _unquote(found.group(2))
        if len(name) > MAX_LABEL or len(value) > MAX_LABEL:
            raise AlertParseError(f"a label or value is over {MAX_LABEL} characters")
        matchers[name] = value
        at = token.end()
    if len(matchers) > MAX_MATCHERS:
        raise AlertParseError(f"at most {MAX_MATCHERS} label=value pairs: give fewer")
    reason = " ".join(text[at:].split())
    if len(reason) > MAX_REASON:
        raise AlertParseError(f"the reason is over {MAX_REASON} characters: say it shorter")
    return SilenceAlerts(first.group(1).lower(), duration, tuple(sorted(matchers.items())), reason)
