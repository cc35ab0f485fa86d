"""The on-call part of the file's shape: ``people``, ``schedules`` and ``escalations``.

Types and spelling only, like ``config.schema``; who is named where, timezones, gaps and phones
are checked in ``config.resolve_oncall``. Times in a schedule are wall-clock times of its
``timezone``, so they are written without an offset.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from config.durations import Duration
from config.schema_reach import QuietHours, ReachRule

Urgency = Literal["high", "low"]  # a page's: low pages wait out a person's quiet hours
LOCAL_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"
DEFAULT_WAIT = timedelta(minutes=5)


def _local_time(value: object) -> datetime:
    """``2026-11-02T09:00`` (or a date, meaning midnight): a wall-clock time of the schedule.

    An offset is refused: the schedule's ``timezone`` decides it, so one file cannot say two
    different things about the same moment."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a local date and time such as 2026-11-02T09:00") from None
    else:
        raise ValueError("expected a local date and time such as 2026-11-02T09:00")
    if parsed.tzinfo is not None:
        raise ValueError(
            "write the time without an offset, e.g. 2026-11-02T09:00: the schedule's timezone "
            "applies"
        )
    return parsed


LocalTime = Annotated[
    datetime,
    BeforeValidator(_local_time),
    WithJsonSchema(
        {"type": "string", "pattern": LOCAL_TIME_PATTERN, "examples": ["2026-11-02T09:00"]}
    ),
]


class PersonConfig(BaseModel):
    """Someone who can be paged; numbers are normalised like contacts'."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    phone: str | None = Field(default=None, description="For SMS (E.164, or local to country).")
    slack: str | None = Field(default=None, description="Slack user ID (U…), to mention them.")
    whatsapp: str | None = Field(default=None, description="WhatsApp number; default: phone.")
    reach: list[ReachRule] | None = Field(
        default=None,
        description="Their own contact rules, in order (a step's via is used without them).",
    )
    quiet: QuietHours | None = Field(
        default=None, description="Daily hours that hold low-urgency pages for them."
    )


class RotationConfig(BaseModel):
    """People take turns, each for ``every``, the first of them from ``start``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: LocalTime = Field(description="A hand-off time, to the first person (local time).")
    every: Duration = Field(description="Length of one turn: 12h, 1d, 1w…")
    people: list[str] = Field(description="Names from people, in turn order.")


class OverrideConfig(BaseModel):
    """Someone on call instead of the rotation, for a while."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    person: str = Field(description="A name from people.")
    from_time: LocalTime = Field(alias="from", description="Start (local time).")
    until: LocalTime = Field(description="End (local time), after from.")


class ScheduleConfig(BaseModel):
    """Who is on call when: a rotation with overrides, or an iCalendar."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str | None = Field(
        default=None,
        description="IANA zone the times are in, e.g. Africa/Nairobi (required for a rotation).",
    )
    rotation: RotationConfig | None = Field(default=None, description="Turns of people.")
    overrides: list[OverrideConfig] = Field(
        default_factory=list, description="Take precedence over the rotation."
    )
    ical: str | None = Field(
        default=None,
        description="An .ics file path or https URL; each event's SUMMARY names a person.",
    )
    refresh: Duration | None = Field(default=None, description="https ical: fetch this often.")
    gaps: Literal["allowed", "refused"] = Field(
        default="refused", description="allowed: moments with nobody on call are accepted."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}: use an IANA name such as Africa/Nairobi or UTC"
            ) from None
        return value.strip()

    @model_validator(mode="after")
    def _one_source(self) -> ScheduleConfig:
        if (self.rotation is None) == (self.ical is None):
            raise ValueError("give either rotation: {...} or ical: <file or https URL>, not both")
        if self.ical is not None and self.overrides:
            raise ValueError("an ical schedule takes overrides as one-off events in the calendar")
        if self.refresh is not None and self.ical is None:
            raise ValueError("refresh applies to ical schedules only: remove it")
        return self


class StepConfig(BaseModel):
    """One escalation step: whom to page, through what, and how long to wait for an ack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notify: list[str] = Field(description="People, schedule:NAME, or contact lists.")
    via: list[str] = Field(description="Channel names, tried in order for each person.")
    wait: Duration = Field(
        default=DEFAULT_WAIT,
        validate_default=True,
        description="Acknowledge within this, or the next step runs (default 5m).",
    )


class EscalationConfig(BaseModel):
    """An escalation policy: the steps a page runs until someone acknowledges it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_senders: list[str] = Field(
        description="Who may page: sender group names, Slack user IDs, or usergroup:ID."
    )
    steps: list[StepConfig] = Field(description="Run in order until someone acknowledges.")
    repeat: int = Field(default=0, ge=0, le=10, description="Run all steps again this often.")
    fallback_after: Duration | None = Field(
        default=None, description="Not delivered within this: try the next channel of via."
    )
    urgency: Urgency = Field(
        default="high",
        description="high (the default) or low: a low page waits out a person's quiet hours.",
    )
