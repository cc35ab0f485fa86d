"""The schema's numbered steps, listed once for both stores.

Why one list: both schemas move together, one version per change, so a step added for one
store is there for the other (an empty step where only replicas need the table). A step is
either written once (``schema_sql``'s braces, filled in each dialect's words) or, where the
databases need different statements (a CHECK changed, a column numbered), given per store.
Each store applies the list its own way (``migrations``, ``postgres_schema``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.store import schema_sql as schema
from bot.store.alerts_schema import POSTGRES_V11, SQLITE_V11, V11_DESCRIPTION
from bot.store.canaries_sql import POSTGRES_V12, SQLITE_V12, V12_DESCRIPTION
from bot.store.pages_schema import (
    POSTGRES_V5,
    POSTGRES_V7,
    POSTGRES_V8,
    POSTGRES_V10,
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
from bot.store.silences_schema import POSTGRES_V13, SQLITE_V13, V13_DESCRIPTION
from bot.store.sql import Dialect
from bot.store.timers_sql import POSTGRES_V14, SQLITE_V14, V14_DESCRIPTION


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    # SQLite: run with foreign keys off (a table rebuild), checked with foreign_key_check before
    # the commit. PostgreSQL ignores it.
    rebuilds: bool = False


# One set of statements for both (rendered in each dialect's words), or each store's own.
Statements = Sequence[str] | Mapping[str, Sequence[str]]


def _each(sqlite: Sequence[str], postgresql: Sequence[str]) -> Mapping[str, Sequence[str]]:
    return {"sqlite": sqlite, "postgresql": postgresql}


_STEPS: tuple[tuple[int, str, Statements], ...] = (
    (1, "requests, recipients, attempts, receipts", schema.V1),
    (2, "requests.reported_at", schema.V2),
    (3, "requests.provider_count", schema.V3),
    (4, "account_pacing (shared rate limits)", _each((), schema.V4_REPLICAS)),
    (5, V5_DESCRIPTION, _each(SQLITE_V5, POSTGRES_V5)),
    (6, "send_leases (replicas own sends)", _each((), schema.V6_REPLICAS)),
    (7, V7_DESCRIPTION, _each(SQLITE_V7, POSTGRES_V7)),
    (8, V8_DESCRIPTION, _each(SQLITE_V8, POSTGRES_V8)),
    (9, V9_DESCRIPTION, V9),
    (10, V10_DESCRIPTION, _each(SQLITE_V10, POSTGRES_V10)),
    (11, V11_DESCRIPTION, _each(SQLITE_V11, POSTGRES_V11)),
    (12, V12_DESCRIPTION, _each(SQLITE_V12, POSTGRES_V12)),
    (13, V13_DESCRIPTION, _each(SQLITE_V13, POSTGRES_V13)),
    (14, V14_DESCRIPTION, _each(SQLITE_V14, POSTGRES_V14)),
)
# SQLite changes a CHECK by rebuilding the table (v5: 'page' as a request's surface).
_SQLITE_REBUILDS = frozenset({5})


def migrations_for(dialect: Dialect) -> tuple[Migration, ...]:
    """The steps in ``dialect``'s statements, in order."""
    found: list[Migration] = []
    for version, description, statements in _STEPS:
        chosen = statements[dialect.name] if isinstance(statements, Mapping) else statements
        own = schema.render(chosen, dialect)  # SQL holds no braces of its own
        rebuilds = dialect.name == "sqlite" and version in _SQLITE_REBUILDS
        found.append(Migration(version, description, own, rebuilds))
    return tuple(found)


def latest_version(migrations: Sequence[Migration] | None = None) -> int:
    """The last version of ``migrations`` (default: of the list both stores share)."""
    if migrations is None:
        return max(version for version, _, _ in _STEPS)
    return max((m.version for m in migrations), default=0)


def check_versions(migrations: Sequence[Migration]) -> None:
    """Refuse a list a developer got wrong before it touches any database (either backend)."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or (versions and versions[0] < 1):
        raise ValueError("migrations must have distinct versions from 1, in ascending order")
