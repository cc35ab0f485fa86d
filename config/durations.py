"""Durations as the file writes them: a number and a unit, ``30s``, ``5m``, ``12h``, ``1d``, ``1w``.

The one parser for every duration in the file (``retry_max_age``, ``every``, ``wait``,
``fallback_after``, ``refresh``), so they all read and print alike.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*[smhdw]\s*$"
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=365)


def _parse_duration(value: object) -> timedelta:
    """``24h``, ``90m``, ``2d``, ``30s``, ``1w``: a unit is required, so nobody guesses what 24
    means. The one duration parser of the file (``retry_max_age``, ``every``, ``wait``...).

    The value is not echoed back: it may have come from an environment variable."""
    if isinstance(value, timedelta):
        return value
    text = value.strip().lower() if isinstance(value, str) else ""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError("expected a duration with a unit, e.g. 24h, 90m or 2d")
    seconds = float(text[:-1].strip()) * _SECONDS[text[-1]]
    if not 0 < seconds <= MAX_DURATION.total_seconds():
        raise ValueError("expected a duration above zero and at most 365d, e.g. 24h")
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """The largest whole unit, as the file writes it: 24h, 90m, 2d, 1w (a day reads as 24h)."""
    seconds = int(duration.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _SECONDS[unit]
        if seconds % size == 0 and seconds // size >= (2 if unit == "d" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(_parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m", "24h", "1w"]}
    ),
]
