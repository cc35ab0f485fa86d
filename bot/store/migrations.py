"""The SQLite schema as numbered migrations, applied in order when a store opens (the steps are
listed once for both stores in ``versions``).

Why numbered: a bridge upgraded in place must carry its send record forward, never drop it. The
schema version lives in ``PRAGMA user_version``; each migration runs in its own transaction
together with the version bump, so a crash mid-upgrade leaves the previous version intact. A
database from a *newer* bridge is refused rather than written with an older idea of the schema.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.base import SchemaTooNew, StoreError
from bot.store.sqlite_sql import SQLITE
from bot.store.sqlite_thread import SyncDB
from bot.store.versions import Migration, check_versions, latest_version, migrations_for

__all__ = ["MIGRATIONS", "Migration", "check_versions", "latest_version", "migrate"]

MIGRATIONS: tuple[Migration, ...] = migrations_for(SQLITE)


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
