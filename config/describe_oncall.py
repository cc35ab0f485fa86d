"""``check``'s on-call part: who is on call now (or at ``--at``) and the next three hand-offs of
each schedule, in the schedule's timezone, and what each escalation step pages through — with a
warning where ``fallback_after`` can never fire because a channel gets no receipts."""

from __future__ import annotations

from datetime import datetime

from config.describe_reach import reach_words
from config.durations import format_duration
from config.numbers import mask_for_operator
from config.schedules import Schedule, Shift, handoffs, on_call
from config.settings import Escalation, Person, Settings, no_receipts_reason

NEXT_HANDOFFS = 3
_TIME = "%a %Y-%m-%d %H:%M"


def _when(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(schedule.timezone).strftime(_TIME)


def _person(person: Person) -> str:
    ways = [f"phone {mask_for_operator(person.phone)}"] if person.phone else []
    if person.whatsapp and person.whatsapp != person.phone:
        ways.append(f"whatsapp {mask_for_operator(person.whatsapp)}")
    if person.slack:
        ways.append(f"slack {person.slack}")
    return f"  {person.name:<12}{', '.join(ways)}"


def _schedule(schedule: Schedule, now: datetime, given: bool) -> list[str]:
    zone = schedule.timezone.key
    gaps = ", gaps allowed" if schedule.gaps_allowed else ""
    lines = [f"  {schedule.name}  ({schedule.source}, times in {zone}{gaps})"]
    if schedule.rotation is None and schedule.calendar is None:
        return [
            *lines,
            "    fetched by the bridge when it runs (https calendars are not read here)",
        ]
    current = on_call(schedule, now)
    label = "now" if not given else f"at {_when(now, schedule)}"
    if current is None:
        gap = f"a gap, at {_when(now, schedule)}" if not given else "a gap"
        lines.append(f"    {label:<15}  nobody ({gap})")
    else:
        lines.append(f"    {label:<15}  {current.person} until {_when(current.until, schedule)}")
    upcoming: list[Shift] = handoffs(schedule, now, NEXT_HANDOFFS)
    for index, shift in enumerate(upcoming):
        label = "next hand-offs" if index == 0 else ""
        lines.append(f"    {label:<17}{_when(shift.since, schedule)} → {shift.person}")
    if not upcoming:
        lines.append("    next hand-offs   none within a year")
    return lines


def _escalation(settings: Settings, escalation: Escalation) -> list[str]:
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
    if escalation.urgency == "low":
        extra.append("low urgency (held in people's quiet hours)")
    if escalation.fallback_after is not None:
        extra.append(f"fallback after {format_duration(escalation.fallback_after)}")
    lines.append(f"    {', '.join(extra)}")
    if escalation.fallback_after is not None:
        lines += _fallback_warnings(settings, escalation)
    return lines


def _fallback_warnings(settings: Settings, escalation: Escalation) -> list[str]:
    """``fallback_after`` moves on only from a channel that reports delivery (README, Paging):
    name each channel it pages through first that never will, so nobody counts on it."""
    firsts = dict.fromkeys(ch for step in escalation.steps for ch in step.via[:-1])
    blind = {
        name: reason
        for name in firsts
        if name in settings.channels
        and (reason := no_receipts_reason(settings, settings.channels[name])) is not None
    }
    if not blind:
        return []
    after = format_duration(escalation.fallback_after) if escalation.fallback_after else ""
    lines = [
        f"    warning: no fallback on time from {', '.join(blind)}: only a channel with "
        f"delivery receipts moves on after {after} undelivered"
    ]
    lines += [f"      {name}: {reason}" for name, reason in blind.items()]
    return lines


def describe_oncall(settings: Settings, now: datetime, given: bool = False) -> list[str]:
    """The on-call lines of ``check`` (none when the file has no on-call part); ``given`` says
    ``now`` came from ``--at``, so it is labelled with its time, not as "now"."""
    lines: list[str] = []
    if settings.people:
        lines += ["", "People"]
        for person in settings.people.values():
            lines += [_person(person), *(f"{'':14}{w}" for w in reach_words(person))]
    if settings.schedules:
        lines += ["", "On call"]
        for schedule in settings.schedules.values():
            lines += _schedule(schedule, now, given)
    if settings.escalations:
        lines += ["", "Escalations (/send page NAME)"]
        for escalation in settings.escalations.values():
            lines += _escalation(settings, escalation)
    return lines
