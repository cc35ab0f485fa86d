"""Quiet-hours arithmetic (``bot.paging.quiet``): inside or outside the daily window, and the
instant it ends, on ordinary days, across midnight and on the two nights the clock jumps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.paging.quiet import in_window, quiet_until
from config.settings import Quiet

NAIROBI = ZoneInfo("Africa/Nairobi")  # UTC+3, no DST
BERLIN = ZoneInfo("Europe/Berlin")  # 2027-03-28 02:00 → 03:00; 2027-10-31 03:00 → 02:00


def quiet(since: str, until: str, zone: ZoneInfo) -> Quiet:
    return Quiet(time.fromisoformat(since), time.fromisoformat(until), zone)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_window_across_midnight_ends_the_next_morning() -> None:
    night = quiet("22:00", "07:00", NAIROBI)
    # 23:30 Nairobi on the 24th → 07:00 Nairobi on the 25th (04:00 UTC)
    assert quiet_until(night, utc(2026, 11, 24, 20, 30)) == utc(2026, 11, 25, 4, 0)
    # 03:00 Nairobi: the same morning
    assert quiet_until(night, utc(2026, 11, 24, 0, 0)) == utc(2026, 11, 24, 4, 0)
    assert quiet_until(night, utc(2026, 11, 24, 4, 0)) is None  # 07:00: over
    assert quiet_until(night, utc(2026, 11, 24, 18, 59)) is None  # 21:59: not yet
    assert quiet_until(night, utc(2026, 11, 24, 19, 0)) == utc(2026, 11, 25, 4, 0)  # 22:00


def test_a_window_within_one_day_and_an_empty_one() -> None:
    lunch = quiet("12:00", "13:00", NAIROBI)
    assert quiet_until(lunch, utc(2026, 11, 24, 9, 30)) == utc(2026, 11, 24, 10, 0)
    assert quiet_until(lunch, utc(2026, 11, 24, 10, 0)) is None
    assert not in_window(quiet("09:00", "09:00", NAIROBI), utc(2026, 11, 24, 6, 0))


def test_spring_forward_inside_quiet_hours() -> None:
    # 01:00–03:30: 03:30 exists that night (CEST), only 1.5 real hours after 01:00 CET
    early = quiet("01:00", "03:30", BERLIN)
    assert quiet_until(early, utc(2027, 3, 28, 0, 30)) == utc(2027, 3, 28, 1, 30)
    # 22:00–02:30: 02:30 does not exist; the window ends at the jump (03:00 CEST, 01:00 UTC)
    night = quiet("22:00", "02:30", BERLIN)
    assert quiet_until(night, utc(2027, 3, 27, 22, 0)) == utc(2027, 3, 28, 1, 0)
    assert quiet_until(night, utc(2027, 3, 28, 0, 59)) == utc(2027, 3, 28, 1, 0)
    assert quiet_until(night, utc(2027, 3, 28, 1, 0)) is None  # 03:00 CEST


def test_fall_back_inside_quiet_hours_holds_until_the_later_0230() -> None:
    night = quiet("22:00", "02:30", BERLIN)
    later = utc(2027, 10, 31, 1, 30)  # the second 02:30 (CET); the first was 00:30 UTC
    assert quiet_until(night, utc(2027, 10, 30, 21, 0)) == later  # 23:00 CEST
    assert quiet_until(night, utc(2027, 10, 31, 0, 10)) == later  # the first 02:10
    assert quiet_until(night, utc(2027, 10, 31, 1, 10)) == later  # the second 02:10


ZONES = st.sampled_from(
    [
        NAIROBI,
        BERLIN,
        ZoneInfo("America/New_York"),
        ZoneInfo("Australia/Lord_Howe"),
        ZoneInfo("UTC"),
    ]
)
TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))
MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(zone=ZONES, since=TIMES, until=TIMES, moment=MOMENTS)
def test_the_end_is_after_the_moment_outside_the_window_and_within_a_day(
    zone: ZoneInfo, since: time, until: time, moment: datetime
) -> None:
    window = Quiet(since, until, zone)
    end = quiet_until(window, moment)
    if end is None:
        assert not in_window(window, moment)
        return
    assert in_window(window, moment)
    assert end > moment
    assert not in_window(window, end)
    assert end - moment <= timedelta(hours=25)
    assert in_window(window, end - timedelta(seconds=1))  # it ends then, not later
