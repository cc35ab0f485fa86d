"""Who is on call when (config/schedules.py): rotation maths, overrides, DST, gaps.

Every moment is a parameter; nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from config.schedules import (
    Interval,
    Rotation,
    Schedule,
    Shift,
    first_gap,
    handoffs,
    on_call,
    to_utc,
)

NAIROBI = ZoneInfo("Africa/Nairobi")
BERLIN = ZoneInfo("Europe/Berlin")
PEOPLE = ("alice", "bob", "carol")


def rotation(
    start: str, every: timedelta, zone: ZoneInfo = NAIROBI, people: tuple[str, ...] = PEOPLE
) -> Schedule:
    rot = Rotation(datetime.fromisoformat(start), every, people)
    return Schedule(name="primary", timezone=zone, rotation=rot, source="rotation")


def local(text: str, zone: ZoneInfo = NAIROBI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def wall(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def test_weekly_rotation_hands_off_at_nine_local_every_monday() -> None:
    schedule = rotation("2026-11-02T09:00", timedelta(weeks=1))
    shift = on_call(schedule, local("2026-11-10T12:00"))
    assert shift is not None
    assert (shift.person, shift.since) == ("bob", datetime(2026, 11, 9, 6, tzinfo=UTC))
    assert wall(shift.until, NAIROBI) == "Mon 2026-11-16 09:00"
    nexts = handoffs(schedule, local("2026-11-10T12:00"), 3)
    assert [(wall(s.since, NAIROBI), s.person) for s in nexts] == [
        ("Mon 2026-11-16 09:00", "carol"),
        ("Mon 2026-11-23 09:00", "alice"),
        ("Mon 2026-11-30 09:00", "bob"),
    ]


def test_a_hand_off_moment_belongs_to_the_next_person() -> None:
    schedule = rotation("2026-11-02T09:00", timedelta(weeks=1))
    before = on_call(schedule, local("2026-11-09T08:59:59"))
    at = on_call(schedule, local("2026-11-09T09:00"))
    assert (before and before.person, at and at.person) == ("alice", "bob")


def test_daily_rotation_and_a_start_in_the_future_runs_backwards_from_it() -> None:
    schedule = rotation("2026-12-01T08:00", timedelta(days=1))
    people = [on_call(schedule, local(f"2026-12-0{d}T10:00")) for d in (1, 2, 3, 4)]
    assert [s.person for s in people if s] == ["alice", "bob", "carol", "alice"]
    earlier = on_call(schedule, local("2026-11-30T10:00"))  # the day before start
    assert earlier is not None
    assert (earlier.person, wall(earlier.since, NAIROBI)) == ("carol", "Mon 2026-11-30 08:00")


def test_twelve_hour_rotation_with_a_start_in_the_past() -> None:
    schedule = rotation("2020-01-01T07:00", timedelta(hours=12), people=("alice", "bob"))
    day = on_call(schedule, local("2026-11-29T12:00"))
    night = on_call(schedule, local("2026-11-29T23:00"))
    assert day is not None
    assert night is not None
    assert (wall(day.since, NAIROBI), wall(day.until, NAIROBI)) == (
        "Sun 2026-11-29 07:00",
        "Sun 2026-11-29 19:00",
    )
    assert {day.person, night.person} == {"alice", "bob"}


def test_weekly_rotation_keeps_local_wall_time_across_both_berlin_dst_changes() -> None:
    # Spring: clocks go 02:00 -> 03:00 on Sun 2026-03-29; autumn: 03:00 -> 02:00 on Sun 2026-10-25.
    schedule = rotation("2026-03-23T09:00", timedelta(weeks=1), zone=BERLIN)
    spring = handoffs(schedule, local("2026-03-24T00:00", BERLIN), 1)[0]
    assert wall(spring.since, BERLIN) == "Mon 2026-03-30 09:00"
    assert spring.since == datetime(2026, 3, 30, 7, tzinfo=UTC)  # CEST, UTC+2
    shortened = on_call(schedule, local("2026-03-25T12:00", BERLIN))
    assert shortened is not None
    assert shortened.until - shortened.since == timedelta(weeks=1, hours=-1)
    autumn = handoffs(schedule, local("2026-10-20T00:00", BERLIN), 1)[0]
    assert wall(autumn.since, BERLIN) == "Mon 2026-10-26 09:00"
    assert autumn.since == datetime(2026, 10, 26, 8, tzinfo=UTC)  # CET, UTC+1
    lengthened = on_call(schedule, local("2026-10-21T12:00", BERLIN))
    assert lengthened is not None
    assert lengthened.until - lengthened.since == timedelta(weeks=1, hours=1)


def test_daily_rotation_keeps_wall_time_and_twelve_hours_stays_elapsed_across_spring_dst() -> None:
    daily = rotation("2026-03-27T09:00", timedelta(days=1), zone=BERLIN)
    assert [
        wall(s.since, BERLIN) for s in handoffs(daily, local("2026-03-27T10:00", BERLIN), 3)
    ] == [
        "Sat 2026-03-28 09:00",
        "Sun 2026-03-29 09:00",
        "Mon 2026-03-30 09:00",
    ]
    halves = rotation("2026-03-28T08:00", timedelta(hours=12), zone=BERLIN)
    shifts = handoffs(halves, local("2026-03-28T09:00", BERLIN), 3)
    assert [wall(s.since, BERLIN) for s in shifts] == [
        "Sat 2026-03-28 20:00",
        "Sun 2026-03-29 09:00",  # 12 elapsed hours after 20:00 CET is 09:00 CEST
        "Sun 2026-03-29 21:00",
    ]
    assert all(s.until - s.since == timedelta(hours=12) for s in shifts[:2])


def test_override_wins_over_the_rotation_and_is_reported_with_its_own_ends() -> None:
    base = rotation("2026-11-02T09:00", timedelta(weeks=1))
    override = Interval(
        "carol",
        to_utc(datetime(2026, 11, 24, 18), NAIROBI),
        to_utc(datetime(2026, 11, 25, 9), NAIROBI),
        top=True,
    )
    schedule = Schedule("primary", NAIROBI, base.rotation, (override,), source="rotation")
    during = on_call(schedule, local("2026-11-24T20:00"))
    assert during == Shift("carol", override.since, override.until)
    after = on_call(schedule, local("2026-11-25T10:00"))
    assert after is not None
    assert (after.person, wall(after.since, NAIROBI)) == ("alice", "Wed 2026-11-25 09:00")
    nexts = handoffs(schedule, local("2026-11-24T12:00"), 2)
    assert [(wall(s.since, NAIROBI), s.person) for s in nexts] == [
        ("Tue 2026-11-24 18:00", "carol"),
        ("Wed 2026-11-25 09:00", "alice"),
    ]


def test_gaps_are_found_and_an_override_by_the_same_person_is_no_hand_off() -> None:
    nobody = Schedule("empty", NAIROBI, Rotation(datetime(2026, 1, 1), timedelta(days=1), ()))
    gap = first_gap(nobody, local("2026-11-29T12:00"))
    assert gap is not None
    assert on_call(nobody, local("2026-11-29T12:00")) is None
    schedule = rotation("2026-11-02T09:00", timedelta(weeks=1))
    assert first_gap(schedule, local("2026-11-29T12:00")) is None
    same = Interval("alice", local("2026-11-24T18:00"), local("2026-11-25T09:00"), top=True)
    both = Schedule("primary", NAIROBI, schedule.rotation, (same,))
    assert [s.person for s in handoffs(both, local("2026-11-24T12:00"), 1)] == ["bob"]


@settings(max_examples=60, deadline=None)
@given(
    every=st.sampled_from([timedelta(hours=12), timedelta(days=1), timedelta(weeks=1)]),
    people=st.integers(min_value=1, max_value=4),
    offset=st.integers(min_value=-3 * 365 * 24, max_value=3 * 365 * 24),
    zone=st.sampled_from([NAIROBI, BERLIN, ZoneInfo("America/New_York")]),
)
def test_a_gap_free_rotation_always_has_someone_and_hand_offs_strictly_increase(
    every: timedelta, people: int, offset: int, zone: ZoneInfo
) -> None:
    names = tuple(f"p{i}" for i in range(people))
    schedule = rotation("2026-03-02T09:30", every, zone=zone, people=names)
    at = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=offset, minutes=17)
    shift = on_call(schedule, at)
    assert shift is not None
    assert shift.since <= at < shift.until
    nexts = handoffs(schedule, at, 3)
    starts = [shift.since] + [s.since for s in nexts]
    assert starts == sorted(set(starts))
    if people > 1:
        assert len(nexts) == 3
        assert nexts[0].since == shift.until
