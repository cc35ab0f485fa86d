"""SQLite timestamps, and reads on the database thread.

Timestamps are stored as fixed-width UTC ISO 8601 text (``2024-05-01T09:30:00.000000Z``): a person
reading the file with ``sqlite3`` can understand them, and text order is time order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from bot.store.sqlite_thread import SyncDB

__all__ = ["fetch_all", "fetch_one", "from_text", "to_text", "utcnow"]

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """A datetime as stored; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_text(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


async def fetch_all(db: SyncDB, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
    """One trip to the connection's thread (execute, fetch and close together)."""
    rows = await db.execute_fetchall(sql, params)
    return cast(list[sqlite3.Row], list(rows))


async def fetch_one(db: SyncDB, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None
