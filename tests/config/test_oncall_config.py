"""people, schedules and escalations in the file: what loads, and every problem with file:line.

"now" is always passed to ``config.load``; the wall clock never decides an assertion.
"""

from __future__ import annotations

import shutil
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import config
from config import ConfigError, Problem, Settings
from config.schedules import handoffs, on_call
from config.schema import RESERVED_NAMES
from tests.config.helpers import ENV, write

FIXTURE = Path(__file__).parents[1] / "fixtures" / "oncall" / "weekly-with-override.ics"
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)

BASE = """\
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}
  kal:
    type: kaleyra
    api_key: ${KAL_KEY}
    sid: HXAP16XXXXXX97IN
    pod: in
senders:
  sre: [U012ABCDEF]
channels:
  oncall-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allow_adhoc: true
    allowed_senders: [sre]
people:
  alice: {phone: "+254712345678", slack: U0ALICE001}
  bob: {phone: "0798 765 432", whatsapp: "+254798765432"}
  dave: {slack: U0DAVE0001}
"""  # 22 lines


def load(tmp_path: Path, text: str, now: datetime = NOW) -> Settings:
    return config.load(write(tmp_path, BASE + textwrap.dedent(text)), ENV, now=now)


def problems(tmp_path: Path, text: str, now: datetime = NOW) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, now)
    return caught.value.problems


def where(found: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.path) for p in found]


ROTATION = """\
schedules:
  primary:
    timezone: Africa/Nairobi
    rotation: {start: "2026-11-02T09:00", every: 1w, people: [alice, bob]}
    overrides:
      - {person: dave, from: "2026-11-24T18:00", until: "2026-11-25T09:00"}
"""


def test_people_and_a_rotation_with_an_override_resolve(tmp_path: Path) -> None:
    settings = load(tmp_path, ROTATION)
    assert settings.people["bob"].phone == "+254798765432"  # normalised with defaults.country
    assert settings.people["alice"].whatsapp == "+254712345678"  # defaults to the phone
    primary = settings.schedules["primary"]
    at_override = datetime(2026, 11, 24, 20, tzinfo=primary.timezone)
    assert on_call(primary, at_override) is not None
    assert on_call(primary, at_override).person == "dave"  # type: ignore[union-attr]
    assert on_call(primary, NOW).person == "bob"  # type: ignore[union-attr]
    assert [s.person for s in handoffs(primary, NOW, 2)] == ["alice", "bob"]


def test_unknown_keys_and_bad_values_are_named_with_their_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        schedules:
          primary:
            timezone: Mars/Olympus
            rotation: {start: "2026-11-02T09:00+03:00", every: 1 week, people: [alice]}
            overides: []
        escalations:
          db:
            allowed_senders: [sre]
            steps:
              - {notify: [alice], via: [oncall-sms], wiat: 5m}
        """,
    )
    assert where(found) == [
        (25, "schedules.primary.timezone"),
        (26, "schedules.primary.rotation.start"),
        (26, "schedules.primary.rotation.every"),
        (27, "schedules.primary.overides"),
        (32, "escalations.db.steps[0].wiat"),
    ]
    messages = [p.message for p in found]
    assert "unknown timezone 'Mars/Olympus'" in messages[0]
    assert "without an offset" in messages[1]
    assert "expected a duration with a unit" in messages[2]
    assert "did you mean 'overrides'" in messages[3]
    assert "did you mean 'wait'" in messages[4]
    assert all(p.file.endswith("bridge.yaml") and p.line for p in found)


def test_reserved_words_are_never_channel_names(tmp_path: Path) -> None:
    assert {"page", "ack", "oncall", "help", "list", "status", "history"} <= RESERVED_NAMES
    text = BASE.replace("  oncall-sms:\n", "  page:\n")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        config.load(path, ENV, now=NOW)
    (problem,) = caught.value.problems
    assert (problem.line, problem.path) == (13, "channels.page")
    assert "/send command word" in problem.message


ONE_OFF = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//tests//one-off//EN
BEGIN:VEVENT
UID:one@tests
DTSTAMP:20260101T000000Z
SUMMARY:alice
DTSTART;TZID=Africa/Nairobi:20261201T090000
DTEND;TZID=Africa/Nairobi:20261202T090000
END:VEVENT
END:VCALENDAR
"""


def test_a_schedule_with_a_gap_is_refused_naming_the_first_gap_unless_allowed(
    tmp_path: Path,
) -> None:
    (tmp_path / "one.ics").write_text(ONE_OFF, encoding="utf-8")
    text = f"""\
    schedules:
      primary:
        timezone: Africa/Nairobi
        ical: {tmp_path / "one.ics"}
    """
    found = problems(tmp_path, text)
    assert where(found) == [(26, "schedules.primary.ical")]
    assert found[0].message == (
        "nobody is on call from Sun 2026-11-29 15:00 EAT until Tue 2026-12-01 09:00 EAT (the "
        "first gap in the next 4 weeks): cover it with people or overrides, or write gaps: allowed"
    )
    allowed = load(tmp_path, text.rstrip(" ") + "        gaps: allowed\n")
    schedule = allowed.schedules["primary"]
    assert on_call(schedule, NOW) is None
    assert on_call(schedule, datetime(2026, 12, 1, 12, tzinfo=UTC)) is not None


def test_an_empty_rotation_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        schedules:
          primary:
            timezone: Africa/Nairobi
            rotation: {start: "2026-11-02T09:00", every: 1w, people: []}
        """,
    )
    assert where(found) == [(24, "schedules.primary"), (26, "schedules.primary.rotation.people")]
    assert "nobody is on call" in found[0].message
    assert "empty: list who takes turns" in found[1].message


def test_an_icalendar_file_expands_weekly_events_and_a_one_off_event_overrides(
    tmp_path: Path,
) -> None:
    shutil.copy(FIXTURE, tmp_path / "team.ics")
    text = BASE.replace("  dave: {slack: U0DAVE0001}\n", '  carol: {phone: "+254700000003"}\n')
    text += f"schedules:\n  secondary:\n    ical: {tmp_path / 'team.ics'}\n"
    text += "    timezone: Europe/Berlin\n"
    settings = config.load(write(tmp_path, text), ENV, now=datetime(2026, 10, 20, tzinfo=UTC))
    cal = settings.schedules["secondary"]
    berlin = cal.timezone

    def who(text: str) -> str | None:
        shift = on_call(cal, datetime.fromisoformat(text).replace(tzinfo=berlin))
        return shift.person if shift else None

    assert who("2026-10-06T12:00") == "alice"
    assert who("2026-10-13T12:00") == "bob"  # SUMMARY "Bob": names are not case-sensitive
    assert who("2026-10-28T20:00") == "carol"  # the one-off event wins over bob's week
    assert who("2026-10-29T09:30") == "bob"
    assert who("2026-11-03T12:00") == "alice"  # expanded beyond the first occurrences
    nexts = handoffs(cal, datetime(2026, 10, 26, tzinfo=berlin), 3)
    assert [(s.since.astimezone(berlin).strftime("%d %H:%M"), s.person) for s in nexts] == [
        ("26 09:00", "bob"),  # the day after the autumn DST change, still 09:00 local
        ("28 18:00", "carol"),
        ("29 09:00", "bob"),
    ]


def test_an_icalendar_naming_someone_not_in_people_is_a_config_problem(tmp_path: Path) -> None:
    shutil.copy(FIXTURE, tmp_path / "team.ics")
    found = problems(
        tmp_path,
        f"""\
        schedules:
          secondary:
            ical: {tmp_path / "team.ics"}
            gaps: allowed
        """,
    )
    assert where(found) == [(25, "schedules.secondary.ical")]
    assert "SUMMARY 'carol' is not in people" in found[0].message


def test_a_missing_ical_file_and_a_plain_http_url_are_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        schedules:
          a: {ical: nowhere.ics}
          b: {ical: "http://cal.example.com/x.ics"}
          c: {ical: "https://cal.example.com/x.ics", refresh: 10m}
        """,
    )
    assert where(found) == [(24, "schedules.a.ical"), (25, "schedules.b.ical")]
    assert "cannot read 'nowhere.ics'" in found[0].message
    assert "must be https" in found[1].message


ESCALATION = """\
contacts:
  leads: [alice, "+254700000009"]
schedules:
  primary:
    timezone: Africa/Nairobi
    rotation: {start: "2026-11-02T09:00", every: 1d, people: [alice, dave]}
escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - notify: [schedule:primary]
        via: [oncall-sms]
        wait: 5m
      - notify: [schedule:secondary, erin, leads]
        via: [oncall-wa, oncall-sms]
    repeat: 1
    fallback_after: 2m
"""


def test_escalation_references_and_phones_for_sms_steps_are_checked(tmp_path: Path) -> None:
    found = problems(tmp_path, ESCALATION)
    assert where(found) == [
        (33, "escalations.db-outage.steps[0].notify[0]"),
        (36, "escalations.db-outage.steps[1].notify[0]"),
        (36, "escalations.db-outage.steps[1].notify[1]"),
        (37, "escalations.db-outage.steps[1].via[0]"),
    ]
    assert "dave has no phone, but this step pages by SMS through oncall-sms" in found[0].message
    assert "unknown schedule 'secondary' — defined schedules: primary" in found[1].message
    assert "'erin' is not a person, schedule:NAME or contact list" in found[2].message
    assert "unknown channel 'oncall-wa'" in found[3].message


def test_a_good_escalation_resolves_and_contact_lists_may_name_people(tmp_path: Path) -> None:
    text = (
        ESCALATION.replace("alice, dave]", "alice, bob]")
        .replace("[schedule:secondary, erin, leads]", "[schedule:primary, leads]")
        .replace("[oncall-wa, oncall-sms]", "[oncall-sms]")
    )
    settings = load(tmp_path, text)
    assert settings.contacts["leads"] == ("+254712345678", "+254700000009")
    policy = settings.escalations["db-outage"]
    assert [s.wait for s in policy.steps] == [timedelta(minutes=5), timedelta(minutes=5)]
    assert [t.kind for t in policy.steps[1].notify] == ["schedule", "contacts"]
    assert (policy.repeat, policy.fallback_after) == (1, timedelta(minutes=2))
    assert policy.allowed_users == frozenset({"U012ABCDEF"})


def test_a_channel_cannot_send_to_a_schedule_yet(tmp_path: Path) -> None:
    text = BASE.replace("    allow_adhoc: true\n", "    to: [schedule:primary]\n")
    text += ROTATION
    with pytest.raises(ConfigError) as caught:
        config.load(write(tmp_path, text), ENV, now=NOW)
    (problem,) = caught.value.problems
    assert problem.path == "channels.oncall-sms.to[0]"
    assert "cannot follow a schedule yet" in problem.message


PAGING_PRESET = """\
escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [oncall-sms], wait: 5m}
broadcasts:
  pager:
    title: Page the DB on-call
    escalation: db-outage
    allowed_senders: [sre]
    announce_in: C0INCIDENT
"""


def test_a_broadcast_preset_may_page_through_a_defined_escalation(tmp_path: Path) -> None:
    settings = load(tmp_path, PAGING_PRESET)
    preset = settings.broadcasts["pager"]
    assert (preset.escalation, preset.channels) == ("db-outage", ())


def test_a_paging_preset_whose_senders_the_escalation_refuses_is_refused(tmp_path: Path) -> None:
    # A preset never widens who may page: its senders must all be the escalation's.
    text = PAGING_PRESET.replace(
        "    allowed_senders: [sre]\n    announce",
        "    allowed_senders: [sre, U0CAROL003, usergroup:S0OTHER99]\n    announce",
    )
    (problem,) = problems(tmp_path, text)
    assert (problem.line, problem.path) == (32, "broadcasts.pager.allowed_senders")
    assert problem.message == (
        "U0CAROL003, usergroup:S0OTHER99 may use this preset but may not page through "
        "escalation 'db-outage', and a preset does not widen who may page: add them to "
        "escalations.db-outage.allowed_senders, or remove them here"
    )


def test_a_paging_preset_naming_an_unknown_escalation_or_channels_is_refused(
    tmp_path: Path,
) -> None:
    text = PAGING_PRESET.replace("escalation: db-outage", "escalation: db-outgae")
    text = text.replace(
        "    allowed_senders: [sre]\n    announce",
        "    channels: [oncall-sms]\n    allowed_senders: [sre]\n    announce",
    )
    found = problems(tmp_path, text)
    assert [p.path for p in found] == [
        "broadcasts.pager.escalation",
        "broadcasts.pager.channels",
    ]
    assert "unknown escalation 'db-outgae' — defined escalations: db-outage" in found[0].message
    assert "remove these" in found[1].message
