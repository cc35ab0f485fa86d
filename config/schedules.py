"""Who is on call when: pure functions over a resolved schedule and a moment given by the caller.

A schedule is two layers of intervals. The bottom layer is the rotation (or an iCalendar's
recurring events); the top layer is the overrides (or an iCalendar's one-off events). At any
moment the top layer wins; within a layer, the interval that started last wins (ties: the one
written last). Moments covered by neither are gaps: nobody is on call.

Rotation hand-offs, the rule: ``start`` is a hand-off to the first person, and the rotation runs
both ways from it (a start in the future still says who is on call today, as GoAlert does).
When ``every`` is a whole number of days (``1d``, ``1w``) hand-offs keep the local wall time
across DST changes (Monday 09:00 stays 09:00, so that turn is an hour shorter or longer); any
other length (``12h``, ``90m``) is elapsed time, so every turn is exactly that long and the wall
time of a hand-off moves by an hour at a DST change. A local time that does not exist (spring
forward) is read with the offset before the change; an ambiguous one as its first occurrence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
GAP_HORIZON = timedelta(weeks=4)  # how far ahead load and check look for gaps
MIN_SEARCH = timedelta(weeks=8)  # how far around a moment shifts are computed
MAX_HANDOFF_SEARCH = timedelta(days=400)


@dataclass(frozen=True)
class Shift:
    """``person`` is on call from ``since`` until ``until`` (aware datetimes, in UTC).

    Both ends are bounded by the search around the moment asked about (``MIN_SEARCH``, or four
    turns of the rotation): a one-person rotation reports a hand-off to no one else."""

    person: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class Gap:
    """Nobody is on call from ``since`` until ``until`` (UTC)."""

    since: datetime
    until: datetime


@dataclass(frozen=True)
class Interval:
    """One entry of a layer: a rotation turn, an override, or a calendar event."""

    person: str
    since: datetime  # UTC
    until: datetime  # UTC
    top: bool  # an override (or a one-off calendar event): wins over the bottom layer


@dataclass(frozen=True)
class Rotation:
    start: datetime  # naive, the schedule's wall time
    every: timedelta
    people: tuple[str, ...]


# Intervals of a calendar overlapping [since, until); supplied by config.ical (or a refresher).
CalendarWindow = Callable[[datetime, datetime], Sequence[Interval]]


@dataclass(frozen=True)
class Schedule:
    """A resolved schedule: a rotation with overrides, or a calendar (``None`` until fetched)."""

    name: str
    timezone: ZoneInfo
    rotation: Rotation | None = None
    overrides: tuple[Interval, ...] = ()
    calendar: CalendarWindow | None = None
    gaps_allowed: bool = False
    source: str = ""  # "rotation", or the ical file or URL, for display


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall time of ``zone`` as UTC (fold=0: the first of an ambiguous pair)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _handoff(rotation: Rotation, zone: ZoneInfo, k: int) -> datetime:
    """The k-th hand-off (k may be negative), in UTC: wall time for whole days, else elapsed."""
    if rotation.every % DAY == timedelta(0):
        return to_utc(rotation.start + k * rotation.every, zone)
    return to_utc(rotation.start, zone) + k * rotation.every


def _turn_index(rotation: Rotation, zone: ZoneInfo, at: datetime) -> int:
    """The k whose turn holds ``at``: an estimate from elapsed time, corrected by the real
    hand-offs (DST moves them by at most an hour)."""
    k = (at - to_utc(rotation.start, zone)) // rotation.every
    while _handoff(rotation, zone, k + 1) <= at:
        k += 1
    while _handoff(rotation, zone, k) > at:
        k -= 1
    return k


def _rotation(schedule: Schedule, since: datetime, until: datetime) -> list[Interval]:
    rotation = schedule.rotation
    if rotation is None or not rotation.people:
        return []
    zone = schedule.timezone
    out: list[Interval] = []
    k = _turn_index(rotation, zone, since)
    while (start := _handoff(rotation, zone, k)) < until:
        person = rotation.people[k % len(rotation.people)]
        out.append(Interval(person, start, _handoff(rotation, zone, k + 1), top=False))
        k += 1
    return out


def intervals(schedule: Schedule, since: datetime, until: datetime) -> list[Interval]:
    """Every interval of both layers that overlaps [since, until)."""
    found = list(_rotation(schedule, since, until))
    found += [o for o in schedule.overrides if o.since < until and o.until > since]
    if schedule.calendar is not None:
        found += schedule.calendar(since, until)
    return found


def timeline(schedule: Schedule, since: datetime, until: datetime) -> list[Shift | Gap]:
    """[since, until) cut into shifts and gaps, in order; neighbours never share a person."""
    since, until = since.astimezone(UTC), until.astimezone(UTC)
    layer = intervals(schedule, since, until)
    cuts = sorted(
        {since, until} | {t for i in layer for t in (i.since, i.until) if since < t < until}
    )
    ranked = sorted(enumerate(layer), key=lambda e: (e[1].top, e[1].since, e[0]))
    out: list[Shift | Gap] = []
    for start, end in pairwise(cuts):
        person = next((i.person for _, i in reversed(ranked) if i.since <= start < i.until), None)
        last = out[-1] if out else None
        if isinstance(last, Shift) and last.person == person:
            out[-1] = Shift(last.person, last.since, end)
        elif isinstance(last, Gap) and person is None:
            out[-1] = Gap(last.since, end)
        else:
            out.append(Shift(person, start, end) if person is not None else Gap(start, end))
    return out


def _search(schedule: Schedule) -> timedelta:
    every = schedule.rotation.every if schedule.rotation else timedelta(0)
    return max(MIN_SEARCH, 4 * every)


def on_call(schedule: Schedule, at: datetime) -> Shift | None:
    """Who is on call at ``at`` (an aware datetime), or None in a gap or before a calendar is
    fetched."""
    at = at.astimezone(UTC)
    span = _search(schedule)
    for part in timeline(schedule, at - span, at + span):
        if part.since <= at < part.until:
            return part if isinstance(part, Shift) else None
    return None


def handoffs(schedule: Schedule, after: datetime, count: int) -> list[Shift]:
    """The next ``count`` shifts that begin after ``after`` (hand-offs into a gap are skipped;
    ``first_gap`` reports those)."""
    after = after.astimezone(UTC)
    span = _search(schedule)
    while True:
        parts = timeline(schedule, after, after + span)
        found = [p for p in parts if isinstance(p, Shift) and p.since > after]
        if len(found) >= count or span >= MAX_HANDOFF_SEARCH:
            return found[:count]
        span *= 2


def first_gap(schedule: Schedule, since: datetime, horizon: timedelta = GAP_HORIZON) -> Gap | None:
    """The first moment in [since, since + horizon) with nobody on call, if any."""
    since = since.astimezone(UTC)
    parts = timeline(schedule, since, since + horizon)
    return next((p for p in parts if isinstance(p, Gap)), None)


def people_named(schedule: Schedule) -> set[str]:
    """Everyone a rotation or its overrides can put on call (calendars are checked apart)."""
    named = set(schedule.rotation.people) if schedule.rotation else set()
    return named | {o.person for o in schedule.overrides}
