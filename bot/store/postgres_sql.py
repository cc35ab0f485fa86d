"""PostgreSQL's side of the SQL written once (``bot.store.sql``): its dialect and its handle.

Why these choices: a list of values is one array parameter (``= ANY``), so a batch is one
statement whatever its size; rows a writer will change are locked (``FOR UPDATE``, in one order
everywhere) because several replicas write at once; parking and claiming receipts are
serialized per account by an advisory lock. ``?`` placeholders become ``$1, $2…`` here (once
per statement text: the numbering is cached).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bot.store.leases import Lease, LeaseLost
from bot.store.postgres_rows import Conn, utc
from bot.store.sql import Dialect, Row
from bot.store.status import AFTER_ATTEMPT_SQL

# $5-$7 name the lease the attempt is made under (NULL: unfenced). Its row is locked FOR SHARE
# first: a takeover (which updates it) waits for this statement, or this one sees the new epoch
# and marks nobody, so no attempt is ever recorded under a lease already taken over.
_START = (
    "WITH fence AS MATERIALIZED (SELECT 1 FROM send_leases WHERE group_id = $5"
    " AND owner = $6 AND epoch = $7 FOR SHARE),"
    " allowed AS MATERIALIZED (SELECT $5::text IS NULL OR EXISTS (SELECT 1 FROM fence) AS ok),"
    # By ref alone (``by_ref``). Another request's row named by mistake is locked, never
    # updated, and reported unmatched.
    " locked AS (SELECT request_id, idx FROM recipients WHERE ref = ANY($2::text[])"
    " AND (SELECT ok FROM allowed) ORDER BY request_id, idx FOR UPDATE),"  # no deadlock
    " hit AS (UPDATE recipients AS r SET status = {after_attempt},"
    " attempts = GREATEST(r.attempts, $3), updated_at = $4 FROM locked"
    " WHERE locked.request_id = $1 AND r.request_id = $1 AND r.idx = locked.idx"
    " RETURNING r.idx, r.ref),"
    " logged AS (INSERT INTO attempts (request_id, idx, attempt, started_at)"
    " SELECT $1, idx, $3, $4 FROM hit ON CONFLICT DO NOTHING),"
    " moved AS (UPDATE requests SET state = 'sending', updated_at = $4"
    " WHERE request_id = $1 AND state = 'accepted' AND (SELECT ok FROM allowed))"
    " SELECT ref FROM hit UNION ALL SELECT NULL FROM allowed WHERE NOT ok"
).format(after_attempt=AFTER_ATTEMPT_SQL.replace("status", "r.status"))
_MARK = re.compile(r"\?")
_LOCK_KEY = "hashtext('chatops-bridge:receipts:' || COALESCE(current_schema(), '') || ':' || ?)"


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2…`` (the shared SQL has no literal ``?``)."""
    counter = iter(range(1, 100_000))
    return _MARK.sub(lambda _: f"${next(counter)}", sql)


POSTGRES = Dialect(
    name="postgresql",
    order="seq",
    greatest="GREATEST",
    concurrent_writers=True,  # replicas: rows are locked before a write computes from them
    unmatched="NOT matched",
    ddl=MappingProxyType(
        {
            "ts": "TIMESTAMPTZ",
            "seq": "\n        seq               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,",
            "seq_key": ", seq",  # rows of one moment in insertion order
            "id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            "matched": "BOOLEAN NOT NULL DEFAULT FALSE",
        }
    ),
    list_size=None,  # a list is one array parameter (``= ANY``): a batch is one statement
    ts=utc,
    dt=utc,
)


@dataclass(slots=True)
class PostgresSql:
    """``bot.store.sql.Sql`` over a pooled asyncpg connection."""

    conn: Conn
    dialect: Dialect = POSTGRES

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        status = await self.conn.execute(numbered(sql), *params)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        await self.conn.executemany(numbered(sql), rows)

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return list(await self.conn.fetch(numbered(sql), *params))

    async def fetchrow(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        return await self.conn.fetchrow(numbered(sql), *params)

    async def insert_id(self, sql: str, params: Sequence[object] = ()) -> int | None:
        found = await self.conn.fetchval(numbered(sql + " RETURNING id"), *params)
        return int(found) if found is not None else None

    async def claim_attempt(
        self, request_id: str, refs: Sequence[str], attempt: int, now: object, lease: Lease | None
    ) -> set[str]:
        """One statement for the whole batch (it commits on its own, atomically): the rows
        locked in (request, idx) order, marked, their attempts logged and the request moved,
        all under the lease's fence (``_START``)."""
        key = (lease.group_id, lease.owner, lease.epoch) if lease else (None, None, None)
        rows = await self.conn.fetch(_START, request_id, list(refs), attempt, now, *key)
        if lease is not None and any(row["ref"] is None for row in rows):
            raise LeaseLost(lease)
        return {row["ref"] for row in rows}

    async def lock_account(self, account: str, *, shared: bool) -> None:
        kind = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self.conn.execute(numbered(f"SELECT {kind}({_LOCK_KEY})"), account)
