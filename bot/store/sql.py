"""What the SQL written once for both stores runs on: a connection handle and its dialect.

Why: SQLite and PostgreSQL run the same statements for requests, sends and receipts but for
placeholders, timestamps, row locks and how a list of values is passed. Each table group's
module (``requests_sql``, ``sends_sql``, ``receipts_sql``) writes its SQL once with ``?``
placeholders over a ``Sql`` handle, and asks the handle's ``Dialect`` for those few pieces.
The two handles are in ``sqlite_sql`` and ``postgres_sql``; the transactions stay each store's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.store.leases import Lease
from bot.store.records import Row

__all__ = ["Dialect", "Row", "Sql", "parts"]


def parts(items: Sequence[Any], size: int | None) -> Iterator[Sequence[Any]]:
    """``items`` in slices of ``size`` (None: one slice); nothing for no items."""
    step = size or max(1, len(items))
    for start in range(0, len(items), step):
        yield items[start : start + step]


class Dialect(Protocol):
    """The pieces of SQL (and values) that differ between the two databases."""

    name: str
    order: str  # the column that keeps insertion order (``rowid`` / ``seq``)
    greatest: str  # the larger of two values (``MAX`` / ``GREATEST``)
    # Several writers at once (replicas): read what a write computes from under its locks.
    concurrent_writers: bool
    # A receipt still parked, as the partial indexes on ``receipts`` say it (so they are used).
    unmatched: str
    # The words ``schema_sql.render`` fills into the tables' DDL.
    ddl: Mapping[str, str]
    # How many values one ``in_list`` may hold (SQLite binds each; None: one array, no limit).
    list_size: int | None

    def ts(self, moment: datetime) -> object:
        """A datetime as stored (ISO text / ``timestamptz``); naive is taken as UTC."""
        ...

    def dt(self, value: Any) -> datetime:
        """A stored timestamp as an aware UTC datetime."""
        ...

    def in_list(self, column: str, values: Sequence[object], kind: str = "text") -> str:
        """``column`` among ``values`` (at most ``list_size``), with its placeholders."""
        ...

    def list_params(self, values: Sequence[object]) -> list[object]:
        """The parameters ``in_list`` of these values binds."""
        ...

    def by_ref(self, alias: str, request_id: str, refs: Sequence[str]) -> tuple[str, list[object]]:
        """Recipient rows ``alias`` of a request among ``refs`` (at most ``list_size``): the
        condition and its parameters, shaped so the planner uses the unique index on ``ref``
        (rows of another request may come back; the caller drops them)."""
        ...

    def for_update(self, of: str | None = None) -> str:
        """A row lock held to the end of the transaction (SQLite: none, it has one writer)."""
        ...

    def rows(self, columns: Sequence[tuple[str, str]], count: int) -> str:
        """A query of ``count`` rows of ``columns`` (name, type), to name in a ``WITH``."""
        ...

    def rows_params(self, rows: Sequence[Sequence[object]]) -> list[object]:
        """The parameters ``rows`` binds for these rows."""
        ...


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
