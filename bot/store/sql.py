"""What the SQL written once for both stores runs on: a connection handle and its dialect.

Why: SQLite and PostgreSQL run the same statements for requests, sends and receipts but for
placeholders, timestamps, row locks and how a list of values is passed. Each table group's
module (``requests_sql``, ``sends_sql``, ``receipts_sql``) writes its SQL once with ``?``
placeholders over a ``Sql`` handle, and asks the handle's ``Dialect`` for those few pieces.
The two handles and the two dialects (``SQLITE``, ``POSTGRES``) are in ``sqlite_sql`` and
``postgres_sql``; the transactions stay each store's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.store.leases import Lease

__all__ = ["Dialect", "Row", "Sql", "marks", "parts"]


class Row(Protocol):
    """What both drivers' rows offer: a column by name (``sqlite3.Row``, ``asyncpg.Record``)."""

    def __getitem__(self, key: str, /) -> Any: ...


def parts(items: Sequence[Any], size: int | None) -> Iterator[Sequence[Any]]:
    """``items`` in slices of ``size`` (None: one slice); nothing for no items."""
    step = size or max(1, len(items))
    for start in range(0, len(items), step):
        yield items[start : start + step]


@dataclass(frozen=True)
class Dialect:
    """The pieces of SQL (and values) that differ between the two databases: one instance each,
    ``sqlite_sql.SQLITE`` and ``postgres_sql.POSTGRES``, says which."""

    name: str
    order: str  # the column that keeps insertion order (``rowid`` / ``seq``)
    greatest: str  # the larger of two values (``MAX`` / ``GREATEST``)
    # Several writers at once (replicas): rows a write computes from are locked first
    # (``FOR UPDATE``, in one order everywhere). SQLite's BEGIN IMMEDIATE has one writer.
    concurrent_writers: bool
    # A receipt still parked, as the partial indexes on ``receipts`` say it (so they are used).
    unmatched: str
    ddl: Mapping[str, str]  # the words ``schema_sql.render`` fills into the tables' DDL
    # How many values one ``in_list`` may hold: SQLite binds each (under its limit on
    # parameters); None: PostgreSQL takes the list as one array, whatever its size.
    list_size: int | None
    ts: Callable[[datetime], object]  # a datetime as stored; naive is taken as UTC
    dt: Callable[[Any], datetime]  # a stored timestamp as an aware UTC datetime

    def in_list(self, column: str, values: Sequence[object], kind: str = "text") -> str:
        """``column`` among ``values`` (at most ``list_size``), with its placeholders."""
        if self.list_size is None:
            return f"{column} = ANY(CAST(? AS {kind}[]))"
        return f"{column} IN ({marks(len(values))})"

    def list_params(self, values: Sequence[object]) -> list[object]:
        """The parameters ``in_list`` of these values binds."""
        return [list(values)] if self.list_size is None else list(values)

    def by_ref(self, alias: str, request_id: str, refs: Sequence[str]) -> tuple[str, list[object]]:
        """Recipient rows ``alias`` of a request among ``refs`` (at most ``list_size``): the
        condition and its parameters, shaped so the planner uses the unique index on ``ref``
        (rows of another request may come back; the caller drops them). Without statistics,
        given the request id as a key, either planner reads every row of the request (1.3 to
        1.5 ms at 10,000 recipients): PostgreSQL is not given it, SQLite gets it behind a
        unary ``+``, which keeps its planner off the primary key's request_id prefix."""
        if self.list_size is None:
            return f"{alias}.ref = ANY(CAST(? AS text[]))", [list(refs)]
        where = f"+{alias}.request_id = ? AND {alias}.ref IN ({marks(len(refs))})"
        return where, [request_id, *refs]

    def for_update(self, of: str | None = None) -> str:
        """A row lock held to the end of the transaction, where writers race."""
        if not self.concurrent_writers:
            return ""
        return f" FOR UPDATE OF {of}" if of else " FOR UPDATE"

    def locked(self, order: str, of: str | None = None) -> str:
        """Rows locked in ``order`` (so two writers never wait on each other in a cycle), where
        writers race; nothing where they do not (SQLite plans and reads as it would without)."""
        return f" ORDER BY {order}{self.for_update(of)}" if self.concurrent_writers else ""

    def rows(self, columns: Sequence[tuple[str, str]], count: int) -> str:
        """A query of ``count`` rows of ``columns`` (name, type), to name in a ``WITH``."""
        if self.list_size is None:  # one array a column
            return f"SELECT * FROM unnest({', '.join(f'CAST(? AS {t}[])' for _, t in columns)})"
        one = f"({marks(len(columns))})"
        return f"VALUES {', '.join([one] * count)}"

    def rows_params(self, rows: Sequence[Sequence[object]]) -> list[object]:
        """The parameters ``rows`` binds for these rows."""
        if self.list_size is None:
            return [list(column) for column in zip(*rows, strict=True)]
        return [value for row in rows for value in row]


def marks(count: int) -> str:
    return ", ".join("?" * count)


class Sql(Protocol):
    """A connection inside the caller's transaction (or a read). ``?`` are the placeholders."""

    dialect: Dialect

    async def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run one statement; the rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None: ...

    async def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Row]: ...

    async def fetchrow(self, sql: str, params: Sequence[object] = ()) -> Row | None: ...

    async def insert_id(self, sql: str, params: Sequence[object] = ()) -> int | None:
        """Run an ``INSERT … ON CONFLICT DO NOTHING``; the new row's ``id``, None if none."""
        ...

    async def claim_attempt(
        self, request_id: str, refs: Sequence[str], attempt: int, now: object, lease: Lease | None
    ) -> set[str]:
        """Mark the request's recipients ``refs`` in flight, log the attempt and move the
        request to 'sending'; the refs it marked. LeaseLost if ``lease`` is not current."""
        ...

    async def lock_account(self, account: str, *, shared: bool) -> None:
        """Serialize parking and claiming an account's receipts to the end of the transaction
        (PostgreSQL, across replicas; SQLite's one writer needs nothing)."""
        ...
