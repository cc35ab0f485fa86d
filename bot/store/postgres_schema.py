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

from bot.store import schema_sql as schema
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
from bot.store.postgres_sql import POSTGRES
from bot.store.retention_sql import V9, V9_DESCRIPTION
from bot.store.schema_sql import render

# The tables are written once for both stores (``schema_sql``), here in PostgreSQL's words.
_V1 = render(schema.V1, POSTGRES)
_V2 = render(schema.V2, POSTGRES)
_V3 = render(schema.V3, POSTGRES)
_V4 = render(schema.V4_REPLICAS, POSTGRES)  # accounts' shared pace (``postgres_pacing``)
_V6 = render(schema.V6_REPLICAS, POSTGRES)  # leases on sends (``postgres_leases``)

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
