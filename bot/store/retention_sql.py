"""Removing old records (``defaults.keep_records``), written once for both stores.

Why bounded statements: a first purge of a year-old record may remove millions of rows; each
statement here deletes at most ``batch`` rows in its own short transaction, so sends, receipts
and pages keep being written in between (SQLite has one writer; PostgreSQL holds row locks).
Rows are picked by their physical id (SQLite ``rowid``, PostgreSQL ``ctid``: the one dialect
hook besides ``PagesSql``'s), children before parents, so no foreign key is ever violated.

What is never removed: a request that is held for confirmation newer than the cutoff, being
sent (``accepted``/``sending``), finished but not yet reported to Slack, with a recipient still
pending or in flight, the parent of a request that is kept (a Retry), or one an active page
sent; a page that is still active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.pages_sql import PagesSql

# A request that may go: old, and nothing about it is still running or waiting to be reported.
_OLD_REQUEST = """
    r.created_at < ?
    AND (r.state IN ('held', 'cancelled') OR (r.state = 'done' AND r.reported_at IS NOT NULL))
    AND NOT EXISTS (SELECT 1 FROM recipients AS x WHERE x.request_id = r.request_id
                    AND x.status IN ('pending', 'in_flight'))
    AND NOT EXISTS (SELECT 1 FROM requests AS c WHERE c.parent_request_id = r.request_id)
    AND NOT EXISTS (SELECT 1 FROM page_sends AS s JOIN pages AS p ON p.page_id = s.page_id
                    WHERE s.request_id = r.request_id AND p.state = 'active')
"""
_OLD_REQUESTS = f"SELECT r.request_id FROM requests AS r WHERE {_OLD_REQUEST}"
_OLD_PAGE = "p.state <> 'active' AND p.created_at < ?"
_OLD_PAGES = f"SELECT p.page_id FROM pages AS p WHERE {_OLD_PAGE}"

# (table, the rows of it that may go, how many cutoffs the condition names), children first.
_STEPS: tuple[tuple[str, str, int], ...] = (
    (
        "receipts",
        f"(NOT matched AND received_at < ?) OR request_id IN ({_OLD_REQUESTS})",
        2,
    ),
    ("attempts", f"request_id IN ({_OLD_REQUESTS})", 1),
    (
        "recipients",
        f"request_id IN ({_OLD_REQUESTS}) AND NOT EXISTS (SELECT 1 FROM attempts AS a"
        " WHERE a.request_id = recipients.request_id AND a.idx = recipients.idx)",
        1,
    ),
    ("page_events", f"page_id IN ({_OLD_PAGES})", 1),
    ("page_sends", f"page_id IN ({_OLD_PAGES})", 1),
    (
        "pages",
        f"page_id IN ({_OLD_PAGES}) AND NOT EXISTS (SELECT 1 FROM page_sends AS s"
        " WHERE s.page_id = pages.page_id) AND NOT EXISTS (SELECT 1 FROM page_events AS e"
        " WHERE e.page_id = pages.page_id)",
        1,
    ),
    (
        "requests",
        f"request_id IN ({_OLD_REQUESTS}) AND NOT EXISTS (SELECT 1 FROM recipients AS x"
        " WHERE x.request_id = requests.request_id)",
        1,
    ),
)
TABLES = tuple(table for table, _, _ in _STEPS)


@dataclass(frozen=True)
class OldestRecord:
    """How far back the record reaches: its oldest request and oldest page (None: none)."""

    request: datetime | None
    page: datetime | None

    @property
    def oldest(self) -> datetime | None:
        found = [t for t in (self.request, self.page) if t is not None]
        return min(found) if found else None


class RetentionSql(PagesSql):
    """``purge_step`` and ``oldest_record`` over ``PagesSql``'s primitives and ``_batch_of``."""

    def _batch_of(self, table: str, where: str) -> str:
        """A condition matching at most one ``LIMIT ?`` batch of ``table``'s rows ``where``
        holds, by physical row id."""
        raise NotImplementedError

    async def purge_step(self, cutoff: datetime, batch: int) -> dict[str, int]:
        """One pass: at most ``batch`` rows of each table older than ``cutoff`` and finished
        are deleted, one statement (and transaction) per table; rows deleted per table. Call
        again until nothing is deleted: children go before parents, so a pass may leave
        parents whose children the next pass removes."""
        at = self._ts(cutoff)
        deleted: dict[str, int] = {}
        for table, where, cutoffs in _STEPS:
            sql = f"DELETE FROM {table} WHERE {self._batch_of(table, where)}"
            deleted[table] = await self._page_exec(sql, (*([at] * cutoffs), batch))
        return deleted

    async def oldest_record(self) -> OldestRecord:
        request = await self._page_fetch("SELECT MIN(created_at) AS at FROM requests", ())
        page = await self._page_fetch("SELECT MIN(created_at) AS at FROM pages", ())
        return OldestRecord(
            request=self._opt_dt(request[0]["at"] if request else None),
            page=self._opt_dt(page[0]["at"] if page else None),
        )
