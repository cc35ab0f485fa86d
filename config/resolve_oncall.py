"""Resolution of ``people``, ``schedules`` and ``escalations``: names followed, numbers in E.164,
calendars read, gaps and unreachable people reported where they are written.

An .ics file is read here, at load (start-up or ``check``, before any event loop runs); an https
calendar is fetched later by ``bot.oncall.refresher`` and is not checked for gaps at load.
Relative file paths are relative to the working directory, like ``--config`` and ``BRIDGE_DB``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from config import ical
from config.numbers import InvalidNumber, normalize_number
from config.problems import KeyPath, Reporter, names_list
from config.references import SCHEDULE_PREFIX, USER_ID, Contacts, expand_senders
from config.resolve_reach import reach_of
from config.schedules import Interval, Rotation, Schedule, first_gap, people_named, to_utc
from config.schema_oncall import EscalationConfig, PersonConfig, ScheduleConfig
from config.settings import Escalation, Person, ResolvedChannel, Senders, Step, Target
from config.validation import Parts
from providers.base import Service

_SHOWN = "%a %Y-%m-%d %H:%M %Z"


def resolve_people(
    people: Mapping[str, PersonConfig], region: str | None, report: Reporter
) -> dict[str, Person]:
    out: dict[str, Person] = {}
    for name, person in people.items():
        numbers: dict[str, str | None] = {}
        for key in ("phone", "whatsapp"):
            raw = getattr(person, key)
            try:
                numbers[key] = normalize_number(raw, region) if raw is not None else None
            except InvalidNumber as exc:
                report.add(("people", name, key), str(exc))
                numbers[key] = None
        slack = person.slack.strip() if person.slack is not None else None
        if slack is not None and not USER_ID.match(slack):
            report.add(("people", name, "slack"), f"{slack!r} is not a Slack user ID (U…)")
        if not (person.phone or person.whatsapp or slack):
            report.add(("people", name), "no way to reach them: give phone, whatsapp or slack")
        whatsapp = numbers["whatsapp"] or numbers["phone"]
        out[name] = Person(name, numbers["phone"], slack, whatsapp, *reach_of(person))
    return out


class OnCallResolver:
    """Schedules and escalations against the people, lists, channels and senders resolved."""

    def __init__(self, people: Mapping[str, Person], report: Reporter, now: datetime) -> None:
        self.people = people
        self.report = report
        self.now = now
        self.calendar_people: dict[str, set[str]] = {}

    def resolve_all(
        self,
        parts: Parts,
        contacts: Contacts,
        channels: Mapping[str, ResolvedChannel],
        groups: Mapping[str, Senders],
        invalid_senders: set[str],
    ) -> tuple[dict[str, Schedule], dict[str, Escalation]]:
        """Schedules, then the escalations that page through them."""
        for name in sorted(set(parts.people) & set(parts.contacts)):
            self.report.add(
                ("people", name), f"{name!r} is both a person and a contact list: rename one"
            )
        schedules: dict[str, Schedule] = {}
        for name, cfg in parts.schedules.items():
            if (schedule := self.schedule(name, cfg)) is not None:
                schedules[name] = schedule
        known_channels = set(parts.names.get("channels", []))
        escalations = {
            name: self.escalation(
                name,
                cfg,
                contacts=contacts,
                schedules=schedules,
                channels=channels,
                known_channels=known_channels,
                groups=groups,
                invalid_senders=invalid_senders,
            )
            for name, cfg in parts.escalations.items()
        }
        return schedules, escalations

    def _person(self, name: str, path: KeyPath, what: str) -> None:
        if name not in self.people:
            self.report.add(
                path,
                f"{what} {name!r} is not in people — defined people: {names_list(self.people)}",
            )

    def schedule(self, name: str, cfg: ScheduleConfig) -> Schedule | None:
        base: KeyPath = ("schedules", name)
        if cfg.rotation is not None and cfg.timezone is None:
            self.report.add(base, "missing required key 'timezone': e.g. Africa/Nairobi")
            return None
        zone = ZoneInfo(cfg.timezone or "UTC")  # checked by the model
        allowed = cfg.gaps == "allowed"
        if cfg.rotation is not None:
            return self._rotation(name, cfg, zone, allowed)
        return self._calendar(name, cfg, zone, allowed)

    def _rotation(self, name: str, cfg: ScheduleConfig, zone: ZoneInfo, allowed: bool) -> Schedule:
        base: KeyPath = ("schedules", name)
        assert cfg.rotation is not None
        rotation = cfg.rotation
        if not rotation.people:
            self.report.add((*base, "rotation", "people"), "empty: list who takes turns")
        for index, person in enumerate(rotation.people):
            self._person(person, (*base, "rotation", "people", index), "rotation person")
        overrides: list[Interval] = []
        for index, item in enumerate(cfg.overrides):
            path = (*base, "overrides", index)
            self._person(item.person, (*path, "person"), "override person")
            if item.until <= item.from_time:
                self.report.add((*path, "until"), "until must be after from")
                continue
            since, until = to_utc(item.from_time, zone), to_utc(item.until, zone)
            overrides.append(Interval(item.person, since, until, top=True))
        schedule = Schedule(
            name=name,
            timezone=zone,
            rotation=Rotation(rotation.start, rotation.every, tuple(rotation.people)),
            overrides=tuple(overrides),
            gaps_allowed=allowed,
            source="rotation",
        )
        self._gaps(schedule)
        return schedule

    def _calendar(self, name: str, cfg: ScheduleConfig, zone: ZoneInfo, allowed: bool) -> Schedule:
        path: KeyPath = ("schedules", name, "ical")
        source = (cfg.ical or "").strip()
        schedule = Schedule(name=name, timezone=zone, gaps_allowed=allowed, source=source)
        if source.startswith("https://"):
            return schedule  # fetched and refreshed by the runtime (bot.oncall.refresher)
        if "://" in source:
            self.report.add(path, "an ical URL must be https://…, or write a file path")
            return schedule
        if "\x00" in source:  # open() raises ValueError, not OSError, on one
            self.report.add(
                path,
                "a file path cannot contain a NUL character (\\x00): "
                "write the calendar's path or https URL",
            )
            return schedule
        if cfg.refresh is not None:
            self.report.add(
                ("schedules", name, "refresh"),
                "a file calendar is read at start-up: remove refresh (it is for https URLs)",
            )
        try:
            with Path(source).open("rb") as file:
                data = file.read(ical.MAX_ICS_BYTES + 1)
            calendar = ical.parse(data, zone)
        except OSError as exc:
            self.report.add(
                path,
                f"cannot read {source!r} ({exc.strerror}); paths are relative "
                "to the working directory",
            )
            return schedule
        except ical.CalendarProblem as exc:
            self.report.add(path, f"{source}: {exc}")
            return schedule
        named = set(calendar.summaries)
        self.calendar_people[name] = named
        for summary in sorted(named - set(self.people)):
            self.report.add(
                path,
                f"{source}: an event's SUMMARY {summary!r} is not in people — each event must "
                f"name one person; defined people: {names_list(self.people)}",
            )
        schedule = Schedule(
            name=name, timezone=zone, calendar=calendar, gaps_allowed=allowed, source=source
        )
        self._gaps(schedule, path)
        return schedule

    def _gaps(self, schedule: Schedule, path: KeyPath | None = None) -> None:
        if schedule.gaps_allowed:
            return
        try:
            gap = first_gap(schedule, self.now)
        except ical.CalendarProblem as exc:
            self.report.add(path or ("schedules", schedule.name), str(exc))
            return
        if gap is None:
            return
        zone = schedule.timezone
        self.report.add(
            path or ("schedules", schedule.name),
            f"nobody is on call from {gap.since.astimezone(zone).strftime(_SHOWN)} until "
            f"{gap.until.astimezone(zone).strftime(_SHOWN)} (the first gap in the next 4 weeks): "
            "cover it with people or overrides, or write gaps: allowed",
        )

    def scheduled_people(self, schedule: Schedule) -> set[str]:
        return people_named(schedule) | self.calendar_people.get(schedule.name, set())

    def escalation(
        self,
        name: str,
        cfg: EscalationConfig,
        *,
        contacts: Contacts,
        schedules: Mapping[str, Schedule],
        channels: Mapping[str, ResolvedChannel],
        known_channels: set[str],
        groups: Mapping[str, Senders],
        invalid_senders: set[str],
    ) -> Escalation:
        base: KeyPath = ("escalations", name)
        add = self.report.add
        allowed = expand_senders(
            cfg.allowed_senders, (*base, "allowed_senders"), groups, invalid_senders, self.report
        )
        if not cfg.steps:
            add((*base, "steps"), "empty: give at least one step with notify and via")
        steps: list[Step] = []
        for s, step in enumerate(cfg.steps):
            path: KeyPath = (*base, "steps", s)
            if not step.via:
                add((*path, "via"), "empty: list the channels to page through, in order")
            for index, channel in enumerate(step.via):
                if channel not in known_channels:
                    add(
                        (*path, "via", index),
                        f"unknown channel {channel!r} — defined channels: "
                        f"{names_list(known_channels)}",
                    )
            services = {channels[c].service: c for c in step.via if c in channels}
            if not step.notify:
                add((*path, "notify"), "empty: list people, schedule:NAME or contact lists")
            targets: list[Target] = []
            for index, entry in enumerate(step.notify):
                where = (*path, "notify", index)
                target = self._target(entry.strip(), where, contacts, schedules)
                if target is None:
                    continue
                targets.append(target)
                if target.kind == "person":
                    reached = {target.name}
                elif target.kind == "schedule" and target.name in schedules:
                    reached = self.scheduled_people(schedules[target.name])
                else:
                    reached = set()
                self._reachable(reached, services, where)
            steps.append(Step(tuple(targets), tuple(step.via), step.wait))
        return Escalation(
            name=name,
            steps=tuple(steps),
            repeat=cfg.repeat,
            fallback_after=cfg.fallback_after,
            allowed_users=allowed.users,
            allowed_usergroups=allowed.usergroups,
            allowed_senders=tuple(cfg.allowed_senders),
            urgency=cfg.urgency,
        )

    def _target(
        self, entry: str, path: KeyPath, contacts: Contacts, schedules: Mapping[str, Schedule]
    ) -> Target | None:
        if entry.startswith(SCHEDULE_PREFIX):
            schedule = entry.removeprefix(SCHEDULE_PREFIX)
            if not contacts.schedule_known(schedule):
                self.report.add(
                    path,
                    f"unknown schedule {schedule!r} — defined schedules: {names_list(schedules)}",
                )
                return None
            return Target("schedule", schedule)
        if entry in self.people:
            return Target("person", entry)
        if contacts.known(entry):
            return Target("contacts", entry)
        self.report.add(
            path,
            f"{entry!r} is not a person, schedule:NAME or contact list — people: "
            f"{names_list(self.people)}; schedules: {names_list(schedules)}",
        )
        return None

    def _reachable(self, names: set[str], services: Mapping[Service, str], path: KeyPath) -> None:
        """A person this step may page must have the number its channels need."""
        for person_name in sorted(names):
            person = self.people.get(person_name)
            if person is None:
                continue  # reported where the name is written
            if Service.SMS in services and person.phone is None:
                self.report.add(
                    path,
                    f"{person_name} has no phone, but this step pages by SMS through "
                    f"{services[Service.SMS]}: give {person_name} a phone in people",
                )
