"""SQLite's side of the SQL written once (``bot.store.sql``): its dialect and its handle.

Why a handle over ``SyncDB``: its methods run ``sqlite3`` at once and never suspend, so a whole
transaction of the shared operations still runs to its end in one trip to the database thread
(``sqlite_thread``). Timestamps are fixed-width UTC ISO text (``sqlite_rows``); a list of values
is bound one placeholder each, in slices under SQLite's limit on parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from bot.store.leases import Lease
from bot.store.records import Row
from bot.store.sql import Dialect, parts
from bot.store.sqlite_rows import BY_REF, from_text, marks, to_text
from bot.store.sqlite_thread import SyncDB
from bot.store.status import AFTER_ATTEMPT_SQL


class SQLiteDialect:
    """``bot.store.sql.Dialect`` for SQLite."""

    name = "sqlite"
    order = "rowid"
    greatest = "MAX"
    unmatched = "matched = 0"
    concurrent_writers = False
    ddl: Mapping[str, str] = MappingProxyType(
        {
            "ts": "TEXT",  # fixed-width UTC ISO text: readable, and text order is time order
            "seq": "",  # the rowid keeps insertion order
            "seq_key": "",
            "id": "INTEGER PRIMARY KEY",  # the rowid
            "matched": "INTEGER NOT NULL DEFAULT 0 CHECK (matched IN (0, 1))",
            "unmatched": "matched = 0",
        }
    )
    list_size: int | None = 500  # well under SQLite's 32,766 bound parameters a statement

    def ts(self, moment: datetime) -> object:
        return to_text(moment)

    def dt(self, value: Any) -> datetime:
        return from_text(str(value))

    def in_list(self, column: str, values: Sequence[object], kind: str = "text") -> str:
        return f"{column} IN ({marks(len(values))})"

    def list_params(self, values: Sequence[object]) -> list[object]:
        return list(values)

    def by_ref(self, alias: str, request_id: str, refs: Sequence[str]) -> tuple[str, list[object]]:
        # The unary + keeps the planner off the primary key's request_id prefix (``BY_REF``).
        return f"+{alias}.request_id = ? AND {alias}.ref IN ({marks(len(refs))})", [
            request_id,
            *refs,
        ]

    def for_update(self, of: str | None = None) -> str:
        return ""  # every write transaction is BEGIN IMMEDIATE: one writer at a time

    def rows(self, columns: Sequence[tuple[str, str]], count: int) -> str:
        one = f"({', '.join('?' * len(columns))})"
        return f"VALUES {', '.join([one] * count)}"

    def rows_params(self, rows: Sequence[Sequence[object]]) -> list[object]:
        return [value for row in rows for value in row]


SQLITE = SQLiteDialect()


class SQLiteSql:
    """``bot.store.sql.Sql`` over the database thread's ``SyncDB``."""

    dialect: Dialect = SQLITE

    def __init__(self, db: SyncDB) -> None:
        self.db = db

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        cursor = self.db.run(sql, params)
        changed = cursor.rowcount
        cursor.close()
        return int(changed)

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self.db.run_many(sql, rows).close()

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return list(await self.db.execute_fetchall(sql, params))

    async def fetchrow(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        rows = await self.db.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def insert_id(self, sql: str, params: Sequence[object] = ()) -> int | None:
        cursor = self.db.run(sql, params)
        inserted, receipt_id = cursor.rowcount, cursor.lastrowid
        cursor.close()
        return receipt_id if inserted == 1 else None

    async def claim_attempt(
        self, request_id: str, refs: Sequence[str], attempt: int, now: object, lease: Lease | None
    ) -> set[str]:
        """Three statements a batch (per 500 refs): the attempts logged and the rows marked
        set-wise by ref, then the request moved. SQLite has no leases (one process)."""
        marked = 0
        for part in parts(refs, SQLITE.list_size):
            params = (attempt, now, request_id, *part)
            self.db.run(
                "INSERT OR IGNORE INTO attempts (request_id, idx, attempt, started_at) SELECT"
                f" request_id, idx, ?, ? FROM recipients WHERE {BY_REF} IN ({marks(len(part))})",
                params,
            ).close()
            marked += await self.execute(
                f"UPDATE recipients SET status = {AFTER_ATTEMPT_SQL}, attempts = MAX(attempts, ?),"
                f" updated_at = ? WHERE {BY_REF} IN ({marks(len(part))})",
                params,
            )
        found = set(refs)
        if marked < len(refs):  # some refs are not this request's: which are
            found = set()
            for part in parts(refs, SQLITE.list_size):
                rows = await self.fetch(
                    f"SELECT ref FROM recipients WHERE {BY_REF} IN ({marks(len(part))})",
                    (request_id, *part),
                )
                found.update(row["ref"] for row in rows)
        await self.execute(
            "UPDATE requests SET state = 'sending', updated_at = ?"
            " WHERE request_id = ? AND state = 'accepted'",
            (now, request_id),
        )
        return found

    async def lock_account(self, account: str, *, shared: bool) -> None:
        return None  # one writer: a write transaction already excludes every other
