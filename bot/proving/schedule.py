"""When a canary's period starts: every ``every`` from 00:00 UTC on 1970-01-01, or, with
``at``, at that wall-clock time of its ``timezone`` on every ``every``-th day (so a daily 09:00
stays 09:00 across DST changes). A period is named by its start, in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from config.settings import Canary

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST_DAY = date(1970, 1, 1).toordinal()


def period_start(canary: Canary, now: datetime) -> datetime:
    """The start of the period ``now`` is in (at or before ``now``)."""
    if canary.at is None:
        return _EPOCH + ((now - _EPOCH) // canary.every) * canary.every
    days = max(1, canary.every.days)
    today = now.astimezone(canary.timezone).date().toordinal()
    first = _FIRST_DAY + ((today - _FIRST_DAY) // days) * days
    for ordinal in (first, first - days):
        start = datetime.combine(date.fromordinal(ordinal), canary.at, tzinfo=canary.timezone)
        if start.astimezone(UTC) <= now:
            return start.astimezone(UTC)
    raise AssertionError("a period started within two of its lengths")  # pragma: no cover
