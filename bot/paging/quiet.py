"""Quiet hours as arithmetic: is a moment inside a person's daily window, and when does that
window end, as an instant.

Why its own module: the window is wall-clock time in the person's timezone, and the two nights a
year the clock jumps are where such code goes wrong. Everything here is pure (no clock, no
store), so those nights are tested directly.

The window is ``since`` up to (not including) ``until`` each day, crossing midnight when
``until`` is earlier (22:00–07:00); ``since == until`` is an empty window. On a spring-forward
night the end may fall in the hour that does not exist (02:30 when 02:00 jumps to 03:00): the
window ends at the jump, the first real instant after it. On a fall-back night the end may occur
twice (02:30 when 03:00 goes back to 02:00): the window ends at the *later* one, so a page held
for quiet hours is held until the window has surely ended, never released an hour early.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from config.settings import Quiet

DAY = timedelta(days=1)


def _wall(moment: datetime, quiet: Quiet) -> datetime:
    """``moment``'s wall-clock time in the window's timezone, naive."""
    return moment.astimezone(quiet.timezone).replace(tzinfo=None)


def in_window(quiet: Quiet, moment: datetime) -> bool:
    """Is the wall clock of ``moment`` (aware) inside the daily window?"""
    clock = _wall(moment, quiet).time()
    if quiet.since == quiet.until:
        return False
    if quiet.since < quiet.until:
        return quiet.since <= clock < quiet.until
    return clock >= quiet.since or clock < quiet.until


def _instant(day: date, clock: time, quiet: Quiet) -> datetime:
    """The instant the wall clock reads ``clock`` on ``day``, in UTC: the later one if it reads
    it twice, the jump if it never does (the first instant whose wall clock is past it)."""
    wall = datetime.combine(day, clock)
    candidates = [wall.replace(tzinfo=quiet.timezone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    real = [c for c in candidates if _wall(c, quiet) == wall]
    if real:
        return max(real)
    # The gap lies between the two readings: find its first second by halving (whole seconds,
    # as the zone database's transitions are).
    low, high = int(min(candidates).timestamp()), int(max(candidates).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), quiet) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def quiet_until(quiet: Quiet, moment: datetime) -> datetime | None:
    """When the window that ``moment`` is in ends (UTC); None if ``moment`` is not in one."""
    if not in_window(quiet, moment):
        return None
    today = _wall(moment, quiet).date()
    crossed = quiet.since > quiet.until and _wall(moment, quiet).time() >= quiet.since
    return _instant(today + DAY if crossed else today, quiet.until, quiet)


def clock_words(quiet: Quiet, end: datetime) -> str:
    """The window's ``end`` as the thread says it, on the person's clock: ``07:00
    Africa/Nairobi`` (``03:00 Europe/Berlin`` the night 02:30 does not exist)."""
    return f"{end.astimezone(quiet.timezone).strftime('%H:%M')} {quiet.timezone.key}"
