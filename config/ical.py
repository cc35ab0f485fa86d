"""iCalendar schedules: each event's SUMMARY names a person; recurring events are expanded.

Parsing is ``icalendar``'s and expansion (RRULE, RDATE, EXDATE, moved occurrences) is
``recurring-ical-events``'; nothing here reads an RRULE. The rule for overlaps: an event of a
recurring series (RRULE or RDATE, or a moved occurrence of one) is the rotation; a one-off event
is an override and wins over the recurring ones in its window (``config.schedules``).
Pure: bytes in, a calendar window out; reading the file or the URL is the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]  # no py.typed (3.8)

from config.schedules import Interval, to_utc

MAX_ICS_BYTES = 2 << 20  # a year of weekly shifts is a few KiB


class CalendarProblem(ValueError):
    """The calendar cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Calendar:
    """A parsed calendar; call it with a window to get that window's intervals."""

    parsed: icalendar.Calendar
    zone: ZoneInfo
    recurring_uids: frozenset[str]
    summaries: tuple[str, ...]  # each event's SUMMARY as written, in file order

    def __call__(self, since: datetime, until: datetime) -> Sequence[Interval]:
        try:
            events = recurring_ical_events.of(self.parsed).between(since, until)
        except Exception as exc:  # the library raises several types for a bad series
            raise CalendarProblem(
                f"cannot expand its events ({type(exc).__name__}: {exc})"
            ) from None
        out: list[Interval] = []
        for event in events:
            start = _utc(event.get("DTSTART").dt, self.zone)
            end_prop = event.get("DTEND")
            end = _utc(end_prop.dt, self.zone) if end_prop is not None else start
            if end <= start:
                continue  # an instant is nobody's shift
            uid = str(event.get("UID", ""))
            person = _person(event.get("SUMMARY"))
            out.append(Interval(person, start, end, top=uid not in self.recurring_uids))
        return out


def _utc(value: Any, zone: ZoneInfo) -> datetime:
    """An event time as UTC: dates are midnight and floating times are wall times of ``zone``."""
    if isinstance(value, datetime):
        return to_utc(value, zone) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return to_utc(datetime(value.year, value.month, value.day), zone)
    raise CalendarProblem(f"an event time {value!r} is neither a date nor a date-time")


def _person(summary: object) -> str:
    """The person an event names: its SUMMARY, trimmed, as a lower-case name."""
    return str(summary or "").strip().lower()


def parse(data: bytes, zone: ZoneInfo) -> Calendar:
    """Parse and check an .ics; expansion errors surface here, not at 3 a.m."""
    if len(data) > MAX_ICS_BYTES:
        raise CalendarProblem(
            f"the calendar is over {MAX_ICS_BYTES >> 20} MiB: is it the right one?"
        )
    try:
        parsed = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise CalendarProblem(f"not an iCalendar file ({exc})") from None
    if not isinstance(parsed, icalendar.Calendar):
        raise CalendarProblem("not an iCalendar file: expected BEGIN:VCALENDAR")
    events = list(parsed.walk("VEVENT"))
    recurring = frozenset(str(e.get("UID", "")) for e in events if "RRULE" in e or "RDATE" in e)
    calendar = Calendar(parsed, zone, recurring, tuple(_person(e.get("SUMMARY")) for e in events))
    return calendar
