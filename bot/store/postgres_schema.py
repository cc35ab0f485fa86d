"""The PostgreSQL schema as numbered migrations, applied once under an advisory lock.

The steps are SQLite's too, listed once in ``versions``: both schemas move together, one version
per change. The version
lives in ``schema_migrations`` (one row per applied step). Every replica opening the store runs
``migrate``; each step is one transaction that first takes a transaction-level advisory lock
keyed on the schema, then re-reads the version — so whichever replica comes first applies it,
the others wait and skip it, and a failed step leaves the previous version intact.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.base import SchemaTooNew, StoreError
from bot.store.postgres_rows import Conn
from bot.store.postgres_sql import POSTGRES
from bot.store.versions import Migration, check_versions, latest_version, migrations_for

MIGRATIONS: tuple[Migration, ...] = migrations_for(POSTGRES)

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
