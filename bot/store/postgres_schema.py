"""The PostgreSQL schema as numbered migrations, applied once under an advisory lock.

Why the same numbers as SQLite (``bot.store.migrations``): both schemas move together, one
version per change, so a migration added to one is visibly missing from the other. The version
lives in ``schema_migrations`` (one row per applied step). Every replica opening the store runs
``migrate``; each step is one transaction that first takes a transaction-level advisory lock
keyed on the schema, then re-reads the version — so whichever replica comes first applies it,
the others wait and skip it, and a failed step leaves the previous version intact.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.alerts_schema import POSTGRES_V11, V11_DESCRIPTION
from bot.store.base import SchemaTooNew, StoreError
from bot.store.migrations import Migration, check_versions, latest_version
from bot.store.pages_schema import (
    POSTGRES_V5,
    POSTGRES_V7,
    POSTGRES_V8,
    POSTGRES_V10,
    V5_DESCRIPTION,
    V7_DESCRIPTION,
    V8_DESCRIPTION,
    V10_DESCRIPTION,
)
from bot.store.postgres_rows import Conn
from bot.store.retention_sql import V9, V9_DESCRIPTION
from bot.store.silences_schema import POSTGRES_V12, V12_DESCRIPTION

_STATUS = "('pending', 'in_flight', 'sent', 'failed', 'unknown', 'delivered', 'read')"

_V1 = (
    """
    CREATE TABLE requests (
        request_id        TEXT PRIMARY KEY,
        seq               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
        created_at        TIMESTAMPTZ NOT NULL,
        updated_at        TIMESTAMPTZ NOT NULL,
        finished_at       TIMESTAMPTZ,
        surface           TEXT NOT NULL
            CHECK (surface IN ('slash', 'modal', 'broadcast', 'shortcut', 'cli', 'retry')),
        user_id           TEXT,
        slack_channel     TEXT,
        thread_ts         TEXT,
        channel           TEXT NOT NULL,
        account           TEXT NOT NULL,
        route             TEXT NOT NULL,  -- JSON text, as in SQLite (jsonb refuses some text)
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
    "CREATE INDEX requests_by_created ON requests (created_at, seq)",
    "CREATE INDEX requests_by_user ON requests (user_id, created_at)",
    "CREATE INDEX requests_unfinished ON requests (state)"
    " WHERE state IN ('held', 'accepted', 'sending')",
    "CREATE INDEX requests_by_broadcast ON requests (broadcast_id) WHERE broadcast_id IS NOT NULL",
    "CREATE INDEX requests_by_parent ON requests (parent_request_id)"
    " WHERE parent_request_id IS NOT NULL",
    f"""
    CREATE TABLE recipients (
        request_id          TEXT NOT NULL REFERENCES requests (request_id),
        idx                 INTEGER NOT NULL,
        address             TEXT NOT NULL,
        ref                 TEXT NOT NULL UNIQUE,
        status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN {_STATUS}),
        provider_message_id TEXT,
        reason              TEXT,
        code                TEXT,
        http_status         INTEGER,
        attempts            INTEGER NOT NULL DEFAULT 0,
        updated_at          TIMESTAMPTZ NOT NULL,
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
        started_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (request_id, idx, attempt),
        FOREIGN KEY (request_id, idx) REFERENCES recipients (request_id, idx)
    )
    """,
    """
    CREATE TABLE receipts (
        id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account             TEXT NOT NULL,
        provider_message_id TEXT,
        ref                 TEXT,
        status              TEXT NOT NULL,
        reason              TEXT,
        code                TEXT,
        event_key           TEXT NOT NULL,
        event_at            TIMESTAMPTZ,
        received_at         TIMESTAMPTZ NOT NULL,
        matched             BOOLEAN NOT NULL DEFAULT FALSE,
        request_id          TEXT,
        idx                 INTEGER,
        UNIQUE (account, event_key),
        CHECK (provider_message_id IS NOT NULL OR ref IS NOT NULL)
    )
    """,
    "CREATE INDEX receipts_parked_by_message_id ON receipts (account, provider_message_id)"
    " WHERE NOT matched",
    "CREATE INDEX receipts_parked_by_ref ON receipts (account, ref) WHERE NOT matched",
    "CREATE INDEX receipts_parked_by_age ON receipts (received_at) WHERE NOT matched",
)

# v2 and v3 mirror SQLite's: when the final report was written; the provider's own count.
_V2 = (
    "ALTER TABLE requests ADD COLUMN reported_at TIMESTAMPTZ",
    "UPDATE requests SET reported_at = COALESCE(finished_at, updated_at)"
    " WHERE state IN ('done', 'cancelled')",
    "CREATE INDEX requests_unreported ON requests (state) WHERE reported_at IS NULL",
)
_V3 = ("ALTER TABLE requests ADD COLUMN provider_count INTEGER",)

# v4: accounts' request slots and 429 pauses, shared by replicas (``postgres_pacing``).
_V4 = (
    """
    CREATE TABLE account_pacing (
        account      TEXT PRIMARY KEY,
        next_slot_at TIMESTAMPTZ,  -- the first slot not yet claimed (NULL: never claimed)
        paused_until TIMESTAMPTZ   -- no request before this, after a 429 (NULL: never paused)
    )
    """,
)

# v6: which replica owns each send until when (``postgres_leases``); ``epoch`` fences writes.
_V6 = (
    """
    CREATE TABLE send_leases (
        group_id    TEXT PRIMARY KEY,  -- a broadcast's id, or a lone request's
        owner       TEXT NOT NULL,     -- the replica id
        epoch       BIGINT NOT NULL,   -- bumped by every takeover
        lease_until TIMESTAMPTZ NOT NULL
    )
    """,
    "CREATE INDEX send_leases_by_expiry ON send_leases (lease_until)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "requests, recipients, attempts, receipts", _V1),
    Migration(2, "requests.reported_at", _V2),
    Migration(3, "requests.provider_count", _V3),
    Migration(4, "account_pacing (shared rate limits)", _V4),
    Migration(5, V5_DESCRIPTION, POSTGRES_V5),
    Migration(6, "send_leases (replicas own sends)", _V6),
    Migration(7, V7_DESCRIPTION, POSTGRES_V7),
    Migration(8, V8_DESCRIPTION, POSTGRES_V8),
    Migration(9, V9_DESCRIPTION, V9),
    Migration(10, V10_DESCRIPTION, POSTGRES_V10),
    Migration(11, V11_DESCRIPTION, POSTGRES_V11),
    Migration(12, V12_DESCRIPTION, POSTGRES_V12),
)

_VERSIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version     INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    )
"""
# One lock per schema, so two bridges in two schemas of one database do not wait on each other.
# (A NULL schema — search_path naming none that exists — must still lock: hence COALESCE.)
_LOCK = (
    "SELECT pg_advisory_xact_lock("
    "hashtext('chatops-bridge:migrate:' || COALESCE(current_schema(), '')))"
)


async def schema_version(conn: Conn) -> int:
    """The version applied (0 for a database the bridge never opened)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def migrate(conn: Conn, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the schema up to the latest version; return the version it is at now."""
    check_versions(migrations)
    latest = latest_version(migrations)
    async with conn.transaction():
        await conn.execute(_LOCK)
        if await conn.fetchval("SELECT current_schema()") is None:
            raise StoreError(
                "the PostgreSQL search_path names no schema that exists: create it, or fix "
                "search_path in BRIDGE_DB"
            )
        await conn.execute(_VERSIONS_TABLE)
        current = await schema_version(conn)
    if current > latest:
        raise SchemaTooNew(
            f"the send record is at schema version {current}, but this bridge knows only up to "
            f"{latest}: it was written by a newer bridge — upgrade this one, or point BRIDGE_DB "
            "at another database"
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        async with conn.transaction():
            await conn.execute(_LOCK)
            # Another replica may have applied it while we waited for the lock.
            if await schema_version(conn) >= migration.version:
                continue
            for statement in migration.statements:
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                migration.version,
                migration.description,
            )
    return await schema_version(conn)
