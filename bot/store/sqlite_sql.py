"""SQLite's side of the SQL written once (``bot.store.sql``): its dialect and its handle.

Why a handle over ``SyncDB``: its methods run ``sqlite3`` at once and never suspend, so a whole
transaction of the shared operations still runs to its end in one trip to the database thread
(``sqlite_thread``). Timestamps are fixed-width UTC ISO text (``sqlite_rows``); a list of values
is bound one placeholder each, in slices under SQLite's limit on parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bot.store.leases import Lease
from bot.store.sends_sql import TO_SENDING
from bot.store.sql import Dialect, Row, parts
from bot.store.sqlite_rows import from_text, to_text
from bot.store.sqlite_thread import SyncDB
from bot.store.status import AFTER_ATTEMPT_SQL

SQLITE = Dialect(
    name="sqlite",
    order="rowid",
    greatest="MAX",
    concurrent_writers=False,  # every write transaction is BEGIN IMMEDIATE: one at a time
    unmatched="matched = 0",
    ddl=MappingProxyType(
        {
            "ts": "TEXT",  # fixed-width UTC ISO text: readable, and text order is time order
            "seq": "",  # the rowid keeps insertion order
            "seq_key": "",
            "id": "INTEGER PRIMARY KEY",  # the rowid
            "matched": "INTEGER NOT NULL DEFAULT 0 CHECK (matched IN (0, 1))",
        }
    ),
    list_size=500,  # well under SQLite's 32,766 bound parameters a statement
    ts=to_text,
    dt=lambda value: from_text(str(value)),
)


@dataclass(slots=True)
class SQLiteSql:
    """``bot.store.sql.Sql`` over the database thread's ``SyncDB``."""

    db: SyncDB
    dialect: Dialect = SQLITE

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
            where, by_ref = SQLITE.by_ref("recipients", request_id, part)
            params = (attempt, now, *by_ref)
            self.db.run(
                "INSERT OR IGNORE INTO attempts (request_id, idx, attempt, started_at) SELECT"
                f" request_id, idx, ?, ? FROM recipients WHERE {where}",
                params,
            ).close()
            marked += await self.execute(
                f"UPDATE recipients SET status = {AFTER_ATTEMPT_SQL}, attempts = MAX(attempts, ?),"
                f" updated_at = ? WHERE {where}",
                params,
            )
        found = set(refs)
        if marked < len(refs):  # some refs are not this request's: which are
            found = set()
            for part in parts(refs, SQLITE.list_size):
                where, by_ref = SQLITE.by_ref("recipients", request_id, part)
                rows = await self.fetch(f"SELECT ref FROM recipients WHERE {where}", by_ref)
                found.update(row["ref"] for row in rows)
        await self.execute(TO_SENDING, (now, request_id))
        return found

    async def lock_account(self, account: str, *, shared: bool) -> None:
        return None  # one writer: a write transaction already excludes every other
