"""The SQLite schema as numbered migrations, applied in order when a store opens.

Why numbered: a bridge upgraded in place must carry its send record forward, never drop it. The
schema version lives in ``PRAGMA user_version``; each migration runs in its own transaction
together with the version bump, so a crash mid-upgrade leaves the previous version intact. A
database from a *newer* bridge is refused rather than written with an older idea of the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
from bot.store.silences_schema import SQLITE_V12, V12_DESCRIPTION
from bot.store.sqlite_thread import SyncDB


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    # SQLite: run with foreign keys off (a table rebuild), checked with foreign_key_check before
    # the commit. PostgreSQL ignores it.
    rebuilds: bool = False


_V1 = (
    """
    CREATE TABLE requests (
        request_id        TEXT PRIMARY KEY,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        finished_at       TEXT,
        surface           TEXT NOT NULL
            CHECK (surface IN ('slash', 'modal', 'broadcast', 'shortcut', 'cli', 'retry')),
        user_id           TEXT,
        slack_channel     TEXT,
        thread_ts         TEXT,
        channel           TEXT NOT NULL,
        account           TEXT NOT NULL,
        route             TEXT NOT NULL,
        message           TEXT NOT NULL,
        state             TEXT NOT NULL DEFAULT 'accepted'
            CHECK (state IN ('held', 'accepted', 'sending', 'done', 'cancelled')),
        idempotency_key   TEXT UNIQUE,
        parent_request_id TEXT REFERENCES requests (request_id),
        broadcast_id      TEXT,
        report_channel    TEXT,
        report_ts         TEXT,
        title             TEXT,
        response_url      TEXT,
        total             INTEGER NOT NULL
    )
    """,
    "CREATE INDEX requests_by_created ON requests (created_at)",
    "CREATE INDEX requests_by_user ON requests (user_id, created_at)",
    "CREATE INDEX requests_unfinished ON requests (state)"
    " WHERE state IN ('held', 'accepted', 'sending')",
    "CREATE INDEX requests_by_broadcast ON requests (broadcast_id) WHERE broadcast_id IS NOT NULL",
    "CREATE INDEX requests_by_parent ON requests (parent_request_id)"
    " WHERE parent_request_id IS NOT NULL",
    """
    CREATE TABLE recipients (
        request_id          TEXT NOT NULL REFERENCES requests (request_id),
        idx                 INTEGER NOT NULL,
        address             TEXT NOT NULL,
        ref                 TEXT NOT NULL UNIQUE,
        status              TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN
                ('pending', 'in_flight', 'sent', 'failed', 'unknown', 'delivered', 'read')),
        provider_message_id TEXT,
        reason              TEXT,
        code                TEXT,
        http_status         INTEGER,
        attempts            INTEGER NOT NULL DEFAULT 0,
        updated_at          TEXT NOT NULL,
        PRIMARY KEY (request_id, idx)
    )
    """,
    "CREATE INDEX recipients_by_message_id ON recipients (provider_message_id)"
    " WHERE provider_message_id IS NOT NULL",
    "CREATE INDEX recipients_by_address ON recipients (request_id, address)",
    """
    CREATE TABLE attempts (
        request_id TEXT NOT NULL,
        idx        INTEGER NOT NULL,
        attempt    INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        PRIMARY KEY (request_id, idx, attempt),
        FOREIGN KEY (request_id, idx) REFERENCES recipients (request_id, idx)
    )
    """,
    """
    CREATE TABLE receipts (
        id                  INTEGER PRIMARY KEY,
        account             TEXT NOT NULL,
        provider_message_id TEXT,
        ref                 TEXT,
        status              TEXT NOT NULL,
        reason              TEXT,
        code                TEXT,
        event_key           TEXT NOT NULL,
        event_at            TEXT,
        received_at         TEXT NOT NULL,
        matched             INTEGER NOT NULL DEFAULT 0 CHECK (matched IN (0, 1)),
        request_id          TEXT,
        idx                 INTEGER,
        UNIQUE (account, event_key),
        CHECK (provider_message_id IS NOT NULL OR ref IS NOT NULL)
    )
    """,
    "CREATE INDEX receipts_parked_by_message_id ON receipts (account, provider_message_id)"
    " WHERE matched = 0",
    "CREATE INDEX receipts_parked_by_ref ON receipts (account, ref) WHERE matched = 0",
    "CREATE INDEX receipts_parked_by_age ON receipts (received_at) WHERE matched = 0",
)

# v2: when the final report (summary and failure list) was written to Slack, so a crash between
# the last outcome and the report is finished on restart instead of losing the failure list.
_V2 = (
    "ALTER TABLE requests ADD COLUMN reported_at TEXT",
    "UPDATE requests SET reported_at = COALESCE(finished_at, updated_at)"
    " WHERE state IN ('done', 'cancelled')",
    "CREATE INDEX requests_unreported ON requests (state) WHERE reported_at IS NULL",
)

# v3: how many people the provider itself said it queued the message for (AutoKonnect expands
# contact tags and dedupes numbers on its side, so our own count can be far from the truth).
_V3 = ("ALTER TABLE requests ADD COLUMN provider_count INTEGER",)

# v4: nothing here. PostgreSQL's v4 is the table replicas share accounts' pace through; one
# SQLite file has one bridge, which paces in memory. The version is kept so both move together.
_V4: tuple[str, ...] = ()

# v6: nothing here either. PostgreSQL's v6 holds the leases replicas own sends through; a
# SQLite bridge is the only process on its file and recovers everything at start.
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
    Migration(12, V12_DESCRIPTION, SQLITE_V12),
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
