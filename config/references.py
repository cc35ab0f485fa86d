"""Contact lists and sender groups: expanding names into addresses and Slack ids.

A contact list may include other lists by name (recursively, deduplicated, order kept); a cycle
is reported with its path. Sender entries are Slack user ids, ``usergroup:S…`` or group names.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from config.numbers import InvalidNumber, normalize_address
from config.problems import KeyPath, Reporter
from config.settings import Escalation, ResolvedBroadcast, Senders

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP = re.compile(r"^usergroup:(S[A-Z0-9]{2,})$")
_LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SCHEDULE_PREFIX = "schedule:"
SENDER_HINT = "a Slack user ID (U…, from the person's profile) or usergroup:S… (a user group ID)"


def is_list_name(entry: str) -> bool:
    """A word with letters that is not a number, group id or tag: meant as a list name."""
    return bool(_LIST_NAME.match(entry)) and any(c.isalpha() for c in entry)


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


class Contacts:
    """Resolves every contact list once; problems are reported where the bad entry is written."""

    def __init__(
        self,
        lists: Mapping[str, list[str]],
        invalid: set[str],
        region: str | None,
        report: Reporter,
        phones: Mapping[str, str | None] | None = None,
        schedules: Collection[str] = (),
    ) -> None:
        self.lists = lists
        self.invalid = invalid
        self.region = region
        self.report = report
        self.phones = phones or {}  # people by name: their E.164 phone, or None
        self.schedule_names = schedules  # every schedule name in the file, valid or not
        self.resolved: dict[str, tuple[str, ...]] = {}
        self.schedules: dict[str, tuple[str, ...]] = {}  # list -> schedule:NAMEs it includes
        self._stack: list[str] = []

    def resolve_all(self) -> dict[str, tuple[str, ...]]:
        for name in self.lists:
            self.get(name)
        return self.resolved

    def _defined(self) -> str:
        return _names([*self.lists, *sorted(self.invalid)])

    def known(self, name: str) -> bool:
        return name in self.lists or name in self.invalid

    def schedule_known(self, name: str) -> bool:
        return name in self.schedule_names

    def schedules_in(self, entry: str) -> tuple[str, ...]:
        """The schedules an entry pages through: ``schedule:NAME`` itself, or a list's."""
        entry = entry.strip()
        if entry.startswith(SCHEDULE_PREFIX):
            return (entry.removeprefix(SCHEDULE_PREFIX),)
        return self.schedules.get(entry, ())

    def get(self, name: str) -> tuple[str, ...]:
        if name in self.resolved:
            return self.resolved[name]
        if name not in self.lists:
            return ()
        self._stack.append(name)
        out: dict[str, None] = {}
        schedules: dict[str, None] = {}
        for index, entry in enumerate(self.lists[name]):
            path: KeyPath = ("contacts", name, index)
            for address in self.entry(entry, path):
                out[address] = None
            schedules.update(dict.fromkeys(self.schedules_in(entry)))
        self._stack.pop()
        self.resolved[name] = tuple(out)
        self.schedules[name] = tuple(s for s in schedules if self.schedule_known(s))
        return self.resolved[name]

    def entry(self, entry: str, path: KeyPath) -> tuple[str, ...]:
        """One written entry: a list name (expanded) or an address (normalised)."""
        entry = entry.strip()
        if entry in self._stack:
            cycle = [*self._stack[self._stack.index(entry) :], entry]
            self.report.add(
                path,
                f"contact lists include each other in a cycle: {' -> '.join(cycle)}; "
                "remove one of these includes",
            )
            return ()
        if self.known(entry):
            return self.get(entry)
        if entry.startswith(SCHEDULE_PREFIX):  # whoever is on call when it is used
            schedule = entry.removeprefix(SCHEDULE_PREFIX)
            if not self.schedule_known(schedule):
                self.report.add(
                    path,
                    f"unknown schedule {schedule!r} — defined schedules: "
                    f"{_names(self.schedule_names)}",
                )
            return ()
        if entry in self.phones:
            phone = self.phones[entry]
            if phone is None:
                self.report.add(path, f"{entry} has no phone: give them one in people")
                return ()
            return (phone,)
        if is_list_name(entry):
            self.report.add(
                path,
                f"unknown contact list {entry!r} — defined lists: {self._defined()}; "
                + (f"or a person from people: {_names(self.phones)}; " if self.phones else "")
                + "or write a number with its country code",
            )
            return ()
        try:
            return (normalize_address(entry, self.region),)
        except InvalidNumber as exc:
            self.report.add(path, str(exc))
            return ()


def sender_groups(groups: Mapping[str, list[str]], report: Reporter) -> dict[str, Senders]:
    """Each group's user ids and usergroup ids; groups hold ids only, not other groups."""
    out: dict[str, Senders] = {}
    for name, entries in groups.items():
        users: set[str] = set()
        usergroups: set[str] = set()
        if not entries:
            report.add(("senders", name), f"empty sender group: list {SENDER_HINT}")
        for index, raw in enumerate(entries):
            entry = raw.strip()
            path: KeyPath = ("senders", name, index)
            if USER_ID.match(entry):
                users.add(entry)
            elif match := USERGROUP.match(entry):
                usergroups.add(match.group(1))
            elif entry in groups:
                report.add(path, f"sender groups cannot include other groups; list {SENDER_HINT}")
            else:
                report.add(path, f"{entry!r} is not {SENDER_HINT}")
        out[name] = Senders(frozenset(users), frozenset(usergroups))
    return out


def expand_senders(
    entries: list[str],
    path: KeyPath,
    groups: Mapping[str, Senders],
    invalid: set[str],
    report: Reporter,
) -> Senders:
    """``allowed_senders``: sender group names, user ids or usergroup:ID, into id sets."""
    users: set[str] = set()
    usergroups: set[str] = set()
    if not entries:
        report.add(path, f"nobody may send: list sender groups, or {SENDER_HINT}")
    for index, raw in enumerate(entries):
        entry = raw.strip()
        if USER_ID.match(entry):
            users.add(entry)
        elif match := USERGROUP.match(entry):
            usergroups.add(match.group(1))
        elif entry in groups:
            users |= groups[entry].users
            usergroups |= groups[entry].usergroups
        elif entry not in invalid:
            defined = _names([*groups, *sorted(invalid)])
            report.add(
                (*path, index),
                f"unknown sender group {entry!r} — defined sender groups: {defined}; "
                f"or write {SENDER_HINT}",
            )
    return Senders(frozenset(users), frozenset(usergroups))


def preset_sender_problems(
    broadcasts: Mapping[str, ResolvedBroadcast],
    escalations: Mapping[str, Escalation],
    report: Reporter,
) -> None:
    """A paging preset's senders must all be the escalation's: a preset never widens who may
    page (the bridge refuses them at paging time anyway; refused here, the admin learns it at
    start-up rather than from a refused person at 3 a.m.)."""
    for name, preset in broadcasts.items():
        escalation = escalations.get(preset.escalation or "")
        if escalation is None:
            continue  # no escalation, or an unknown one (reported where it is named)
        extra = sorted(preset.allowed_users - escalation.allowed_users) + [
            f"usergroup:{g}"
            for g in sorted(preset.allowed_usergroups - escalation.allowed_usergroups)
        ]
        if extra:
            report.add(
                ("broadcasts", name, "allowed_senders"),
                f"{', '.join(extra)} may use this preset but may not page through escalation "
                f"{escalation.name!r}, and a preset does not widen who may page: add them to "
                f"escalations.{escalation.name}.allowed_senders, or remove them here",
            )
