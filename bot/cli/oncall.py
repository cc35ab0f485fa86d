"""`python -m bot oncall [name]`: who is on call now and who is next, or whom an escalation's
steps would page right now, in plain words for a terminal.

Why the same sources as the bridge: schedules are read as the running bridge reads them (https
calendars fetched now), and an escalation's steps are resolved by the function the paging
engine uses, so what this prints is who a page started now would reach.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import datetime
from typing import TextIO

import aiohttp

from bot.oncall.calendars import Calendars, https_calendars
from bot.paging.targets import step_people
from bot.paging.watch import plain_name
from bot.store import utcnow
from config import Settings
from config.durations import format_duration
from config.schedules import Schedule, handoffs, on_call

CALENDAR_FETCH_SECONDS = 15.0

_SHOWN = "%a %d %b %H:%M %Z"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        default=None,
        help="a schedule (who is on call and next) or an escalation (whom each step would "
        "page now); default: every schedule",
    )


async def with_calendars(settings: Settings) -> Settings:
    """The settings with every https calendar fetched now (one that fails keeps what the config
    gave, and says so in the log), as the running bridge would have them."""
    refresh = https_calendars(settings)
    if not refresh:
        return settings
    timeout = aiohttp.ClientTimeout(total=CALENDAR_FETCH_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        calendars = Calendars(
            settings.schedules, refresh, people=settings.people, session=http, clock=utcnow
        )
        await calendars.tick()
    return dataclasses.replace(settings, schedules=calendars.live)


def schedule_lines(settings: Settings, schedule: Schedule, now: datetime) -> list[str]:
    zone = schedule.timezone
    shift = on_call(schedule, now)
    if shift is None:
        lines = [f"{schedule.name}: nobody is on call now"]
    else:
        who = plain_name(settings, shift.person)
        lines = [f"{schedule.name}: {who} until {shift.until.astimezone(zone):{_SHOWN}}"]
    following = handoffs(schedule, now, 1)
    if following:
        nxt = following[0]
        who = plain_name(settings, nxt.person)
        lines.append(f"    next: {who} from {nxt.since.astimezone(zone):{_SHOWN}}")
    return lines


def escalation_lines(settings: Settings, name: str, now: datetime) -> list[str]:
    policy = settings.escalations[name]
    repeat = f", then again {policy.repeat} time(s)" if policy.repeat else ""
    lines = [f"{name}: {len(policy.steps)} step(s){repeat}, if started now:"]
    for index, step in enumerate(policy.steps, start=1):
        people, notes = step_people(settings, step, now)
        names = ", ".join(plain_name(settings, p.key) for p in people) or "nobody"
        via = " then ".join(step.via)
        lines.append(f"  step {index}: {names} by {via}, then wait {format_duration(step.wait)}")
        lines += [f"    ({note})" for note in notes]
    return lines


def run_oncall(
    args: argparse.Namespace,
    settings: Settings,
    now: datetime,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """0: shown; 2: no schedule or escalation of that name."""
    name = args.name.strip().lower() if args.name else None
    if name is not None and name in settings.escalations:
        out.writelines(line + "\n" for line in escalation_lines(settings, name, now))
        return 0
    if name is not None and name not in settings.schedules:
        schedules = ", ".join(settings.schedules) or "none"
        escalations = ", ".join(settings.escalations) or "none"
        err.write(
            f"error: there is no schedule or escalation {name!r}. "
            f"Schedules: {schedules}. Escalations: {escalations}.\n"
        )
        return 2
    chosen = [name] if name is not None else list(settings.schedules)
    if not chosen:
        out.write("No schedules are configured (schedules: in the bridge config).\n")
        return 0
    for each in chosen:
        out.writelines(
            line + "\n" for line in schedule_lines(settings, settings.schedules[each], now)
        )
    return 0
