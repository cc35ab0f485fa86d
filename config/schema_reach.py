"""The shape of how each person is reached (``reach:``, ``quiet:`` in ``people``) and of the
``canaries:`` that prove each outbound channel on a schedule.

Types and spelling only, like ``config.schema_oncall``; channel names, numbers and whether a
channel can reach a person's number are checked in ``config.resolve_reach``.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from config.durations import Duration

CLOCK_PATTERN = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"


def _clock(value: object) -> time:
    """``09:00``: a wall-clock time of day (its timezone is given beside it)."""
    if isinstance(value, time):
        return value
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 09:00 as sexagesimal minutes
        hours, minutes = divmod(value, 60)
        if 0 <= hours < 24:
            return time(hours, minutes)
    if isinstance(value, str) and re.fullmatch(CLOCK_PATTERN, value.strip()):
        hour, minute = value.strip().split(":")
        return time(int(hour), int(minute))
    raise ValueError('expected a time of day as HH:MM, e.g. "09:00" (quote it)')


def _zone(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {value!r}: use an IANA name such as Africa/Nairobi or UTC"
        ) from None
    return text


ClockTime = Annotated[
    time,
    BeforeValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN, "examples": ["09:00"]}),
]
Zone = Annotated[
    str,
    BeforeValidator(_zone),
    WithJsonSchema({"type": "string", "examples": ["Africa/Nairobi", "UTC"]}),
]


class ReachRule(BaseModel):
    """One way to reach a person: an outbound channel, and how long after the page starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    via: str = Field(description="An outbound channel that reaches this person's number.")
    after: Duration | None = Field(
        default=None, description="Wait this long after the page reaches them first (e.g. 2m)."
    )

    @property
    def delay(self) -> timedelta:
        return self.after or timedelta(0)


class QuietHours(BaseModel):
    """A daily window in which low-urgency pages wait (high-urgency pages never do)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_time: ClockTime = Field(alias="from", description="Start, HH:MM in timezone.")
    until: ClockTime = Field(description="End, HH:MM in timezone (may be the next morning).")
    timezone: Zone = Field(description="IANA zone of from and until, e.g. Africa/Nairobi.")


class CanaryConfig(BaseModel):
    """A test message through one outbound channel on a schedule, judged by its receipt."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    to: str = Field(description="The number (or group id) that receives the test message.")
    every: Duration = Field(description="How often: 1d, 12h, 1w…")
    at: ClockTime | None = Field(
        default=None,
        description="Time of day it runs, HH:MM in timezone (every must be whole days).",
    )
    timezone: Zone = Field(default="UTC", description="IANA zone of at (default UTC).")
    within: Duration = Field(
        default="5m",
        validate_default=True,
        description="A channel that reports delivery must report it within this (default 5m).",
    )
    announce_in: str = Field(description="Slack channel ID where a failure is posted.")
