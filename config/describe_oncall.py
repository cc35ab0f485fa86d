"""``check``'s on-call part: who is on call now and the next three hand-offs of each schedule,
in the schedule's timezone, and what each escalation step pages through."""

from __future__ import annotations

from datetime import datetime

from config.durations import format_duration
from config.numbers import mask_address
from config.schedules import Schedule, Shift, handoffs, on_call
from config.settings import Escalation, Person, Settings

NEXT_HANDOFFS = 3
_TIME = "%a %Y-%m-%d %H:%M"


def _when(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(schedule.timezone).strftime(_TIME)


def _person(person: Person) -> str:
    ways = [f"phone {mask_address(person.phone)}"] if person.phone else []
    if person.whatsapp and person.whatsapp != person.phone:
        ways.append(f"whatsapp {mask_address(person.whatsapp)}")
    if person.slack:
        ways.append(f"slack {person.slack}")
    return f"  {person.name:<12}{', '.join(ways)}"


def _schedule(schedule: Schedule, now: datetime) -> list[str]:
    zone = schedule.timezone.key
    gaps = ", gaps allowed" if schedule.gaps_allowed else ""
    lines = [f"  {schedule.name}  ({schedule.source}, times in {zone}{gaps})"]
    if schedule.rotation is None and schedule.calendar is None:
        return [
            *lines,
            "    fetched by the bridge when it runs (https calendars are not read here)",
        ]
    current = on_call(schedule, now)
    if current is None:
        lines.append(f"    now              nobody (a gap, at {_when(now, schedule)})")
    else:
        lines.append(
            f"    now              {current.person} until {_when(current.until, schedule)}"
        )
    upcoming: list[Shift] = handoffs(schedule, now, NEXT_HANDOFFS)
    for index, shift in enumerate(upcoming):
        label = "next hand-offs" if index == 0 else ""
        lines.append(f"    {label:<17}{_when(shift.since, schedule)} → {shift.person}")
    if not upcoming:
        lines.append("    next hand-offs   none within a year")
    return lines


def _escalation(escalation: Escalation) -> list[str]:
    lines = [f"  {escalation.name}  (allowed senders: {', '.join(escalation.allowed_senders)})"]
    for index, step in enumerate(escalation.steps, start=1):
        notify = ", ".join(
            f"schedule:{t.name}" if t.kind == "schedule" else t.name for t in step.notify
        )
        lines.append(
            f"    step {index}  {notify} via {' → '.join(step.via)}, "
            f"wait {format_duration(step.wait)}"
        )
    extra = [f"repeat {escalation.repeat}"]
    if escalation.fallback_after is not None:
        extra.append(f"fallback after {format_duration(escalation.fallback_after)}")
    lines.append(f"    {', '.join(extra)}")
    return lines


def describe_oncall(settings: Settings, now: datetime) -> list[str]:
    """The on-call lines of ``check`` (none when the file has no on-call part)."""
    lines: list[str] = []
    if settings.people:
        lines += ["", "People"] + [_person(p) for p in settings.people.values()]
    if settings.schedules:
        lines += ["", "On call"]
        for schedule in settings.schedules.values():
            lines += _schedule(schedule, now)
    if settings.escalations:
        lines += ["", "Escalations (checked; paging through them is not active yet)"]
        for escalation in settings.escalations.values():
            lines += _escalation(escalation)
    return lines
