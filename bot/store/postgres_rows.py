"""PostgreSQL connections and timestamps, as every PostgreSQL module names them.

Timestamps are ``timestamptz`` (asyncpg returns them as aware UTC datetimes); route and message
are JSON text written and read by pydantic, exactly as in SQLite (cast to ``jsonb`` to query them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A connection of our own or one lent by the pool: the operations take either.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


def utc(moment: datetime) -> datetime:
    """A datetime as stored; a naive one is taken to be UTC already (as SQLite's ``to_text``)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
