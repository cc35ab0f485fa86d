"""The SQLite schema as numbered migrations, applied in order when a store opens (the tables
themselves are written once for both stores, in ``schema_sql`` and ``pages_schema``).

Why numbered: a bridge upgraded in place must carry its send record forward, never drop it. The
schema version lives in ``PRAGMA user_version``; each migration runs in its own transaction
together with the version bump, so a crash mid-upgrade leaves the previous version intact. A
database from a *newer* bridge is refused rather than written with an older idea of the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.store import schema_sql as schema
from bot.store.alerts_schema import SQLITE_V11, V11_DESCRIPTION
from bot.store.base import SchemaTooNew, StoreError
from bot.store.pages_schema import (
    SQLITE_V5,
    SQLITE_V7,
    SQLITE_V8,
    SQLITE_V10,
    V5_DESCRIPTION,
    V7_DESCRIPTION,
    V8_DESCRIPTION,
    V10_DESCRIPTION,
)
from bot.store.retention_sql import V9, V9_DESCRIPTION
from bot.store.schema_sql import render
from bot.store.sqlite_sql import SQLITE
from bot.store.sqlite_thread import SyncDB


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    # SQLite: run with foreign keys off (a table rebuild), checked with foreign_key_check before
    # the commit. PostgreSQL ignores it.
    rebuilds: bool = False


# The tables are written once for both stores (``schema_sql``), here in SQLite's words.
_V1 = render(schema.V1, SQLITE)
_V2 = render(schema.V2, SQLITE)
_V3 = render(schema.V3, SQLITE)
# v4 and v6 are tables only replicas need (``schema_sql.V4_REPLICAS``, ``V6_REPLICAS``); one
# SQLite file has one bridge. The versions are kept so both schemas move together.
_V4: tuple[str, ...] = ()
_V6: tuple[str, ...] = ()

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "requests, recipients, attempts, receipts", _V1),
    Migration(2, "requests.reported_at", _V2),
    Migration(3, "requests.provider_count", _V3),
    Migration(4, "account_pacing (shared rate limits)", _V4),
    Migration(5, V5_DESCRIPTION, SQLITE_V5, rebuilds=True),
    Migration(6, "send_leases (replicas own sends)", _V6),
    Migration(7, V7_DESCRIPTION, SQLITE_V7),
    Migration(8, V8_DESCRIPTION, SQLITE_V8),
    Migration(9, V9_DESCRIPTION, V9),
    Migration(10, V10_DESCRIPTION, SQLITE_V10),
    Migration(11, V11_DESCRIPTION, SQLITE_V11),
)


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return max((m.version for m in migrations), default=0)


def check_versions(migrations: Sequence[Migration]) -> None:
    """Refuse a list a developer got wrong before it touches any database (either backend)."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise ValueError("migrations must have distinct versions from 1, in ascending order")


async def schema_version(db: SyncDB) -> int:
    rows = await db.execute_fetchall("PRAGMA user_version")
    return int(rows[0][0]) if rows else 0


async def migrate(db: SyncDB, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database up to the latest version; return the version it is at now.

    ``db`` must be in autocommit mode (``isolation_level=None``): each step is its own
    ``BEGIN IMMEDIATE`` … ``COMMIT``, so two processes opening the same file at once do not
    both apply a step.
    """
    check_versions(migrations)
    latest = latest_version(migrations)
    current = await schema_version(db)
    if current > latest:
        raise SchemaTooNew(
            f"the send record is at schema version {current}, but this bridge knows only up to "
            f"{latest}: it was written by a newer bridge — upgrade this one, or point BRIDGE_DB "
            "at another file"
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        if migration.rebuilds:  # cannot change inside a transaction
            await db.execute("PRAGMA foreign_keys = OFF")
        try:
            await _apply(db, migration)
        finally:
            if migration.rebuilds:
                await db.execute("PRAGMA foreign_keys = ON")
    return await schema_version(db)


async def _apply(db: SyncDB, migration: Migration) -> None:
    """One migration and its version bump in one transaction (skipped if another process
    applied it while we waited for the write lock)."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while we waited for the write lock.
        if await schema_version(db) >= migration.version:
            await db.execute("ROLLBACK")
            return
        for statement in migration.statements:
            await db.execute(statement)
        if migration.rebuilds and await db.execute_fetchall("PRAGMA foreign_key_check"):
            raise StoreError(
                f"migration {migration.version} broke a foreign key; nothing was changed"
            )
        # user_version is in the database header and is set within this transaction.
        await db.execute(f"PRAGMA user_version = {int(migration.version)}")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
