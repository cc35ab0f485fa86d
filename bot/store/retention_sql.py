"""Removing old records (``defaults.keep_records``), written once for both stores.

Why bounded statements: a first purge of a year-old record may remove millions of rows; each
statement here deletes at most ``batch`` rows in its own short transaction, so sends, receipts
and pages keep being written in between (SQLite has one writer; PostgreSQL holds row locks).
A pass first picks the ids of the oldest ``batch`` requests and pages that may go (through the
``created_at`` index), then deletes their rows by index lookups, children before parents, so no
foreign key is ever violated and no statement reads the whole record (``bench/retention.py``).
Rows are limited by their physical id (SQLite ``rowid``, PostgreSQL ``ctid``: the one dialect
hook besides ``PagesSql``'s). Resolved alert groups go by when they were resolved, silences by
when they ended, canary runs by when they were claimed.

What is never removed: a request being sent (``accepted``/``sending``), finished but not yet
reported to Slack, with a recipient still pending or in flight, the parent of a request that
is kept (a Retry), or one an active page sent; a page that is still active; an alert group still
firing, or resolved but listed on a page still active (a storm's); a silence in force, or one a
kept group names (its message says who silenced it); a canary's run not yet judged, its latest
judged run (``bridge_channel_healthy`` reads it, and its period must not be claimed again) and
its latest passed run (the last-good gauge; ``check --live`` sends afresh and reads neither).
An old ``held`` request goes: its confirmation lapsed after 15 minutes, and ``keep_records`` is
at least a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.pages_sql import PagesSql
from bot.store.sql import marks

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
_OLD_PAGE = "p.state <> 'active' AND p.created_at < ?"
# The oldest batch of each: a pass works on these ids only, so every statement is index lookups
# (the ids are checked again in each statement: one may have changed since they were picked).
_PICK_REQUESTS = (
    f"SELECT r.request_id AS id FROM requests AS r WHERE {_OLD_REQUEST}"
    " ORDER BY r.created_at LIMIT ?"
)
_PICK_PAGES = f"SELECT p.page_id AS id FROM pages AS p WHERE {_OLD_PAGE} LIMIT ?"


def _still_old_requests(count: int) -> str:
    where = f"r.request_id IN ({marks(count)}) AND {_OLD_REQUEST}"
    return f"SELECT r.request_id FROM requests AS r WHERE {where}"


def _still_old_pages(count: int) -> str:
    return f"SELECT p.page_id FROM pages AS p WHERE p.page_id IN ({marks(count)}) AND {_OLD_PAGE}"


# (table, the rows of it that may go given the picked ids), children before parents.
_REQUEST_STEPS: tuple[tuple[str, str], ...] = (
    ("receipts", "request_id IN ({old})"),
    ("attempts", "request_id IN ({old})"),
    (
        "recipients",
        "request_id IN ({old}) AND NOT EXISTS (SELECT 1 FROM attempts AS a"
        " WHERE a.request_id = recipients.request_id AND a.idx = recipients.idx)",
    ),
    (
        "requests",
        "request_id IN ({old}) AND NOT EXISTS (SELECT 1 FROM recipients AS x"
        " WHERE x.request_id = requests.request_id)",
    ),
)
_PAGE_STEPS: tuple[tuple[str, str], ...] = (
    ("page_events", "page_id IN ({old})"),
    ("page_sends", "page_id IN ({old})"),
    ("page_timers", "page_id IN ({old})"),
    (
        "pages",
        "page_id IN ({old}) AND NOT EXISTS (SELECT 1 FROM page_sends AS s"
        " WHERE s.page_id = pages.page_id) AND NOT EXISTS (SELECT 1 FROM page_events AS e"
        " WHERE e.page_id = pages.page_id) AND NOT EXISTS (SELECT 1 FROM page_timers AS t"
        " WHERE t.page_id = pages.page_id)",
    ),
)
# Receipts parked for a send never recorded (``prune_parked`` drops them after a day anyway),
# worded as the partial index on their age says it (``Dialect.unmatched``), so SQLite uses it.
_PARKED = "{unmatched} AND received_at < ?"
# Alert groups resolved before the cutoff; a group still firing stays, however old, and so does
# a resolved one a still-active page lists (a storm's page shows its groups).
_OLD_GROUP = """
    state = 'resolved' AND resolved_at < ?
    AND NOT EXISTS (SELECT 1 FROM pages AS p WHERE p.page_id = alert_groups.page_id
                    AND p.state = 'active')
"""
# Silences that ended (early or at their end) before the cutoff and that no kept group names.
# Silences are typed by people: a handful, so the anti-join over the groups is cheap.
_OLD_SILENCE = """
    (ended_at < ? OR ends_at < ?)
    AND NOT EXISTS (SELECT 1 FROM alert_groups AS g WHERE g.silence_id = alert_silences.silence_id)
"""
# Judged canary runs claimed before the cutoff, but never a canary's latest judged run nor its
# latest passed one (what the health and last-good gauges show).
_OLD_CANARY_RUN = """
    claimed_at < ? AND judged_at IS NOT NULL
    AND period < (SELECT MAX(x.period) FROM canary_runs AS x
                  WHERE x.canary = canary_runs.canary AND x.judged_at IS NOT NULL)
    AND (ok = 0 OR EXISTS (SELECT 1 FROM canary_runs AS y WHERE y.canary = canary_runs.canary
                           AND y.ok = 1 AND y.judged_at > canary_runs.judged_at))
"""
TABLES = (
    "receipts", "attempts", "recipients", "requests", "page_events", "page_sends",
    "page_timers", "pages", "alert_groups", "alert_silences", "canary_runs",
)  # fmt: skip

# v9 (both stores): the purge finds a request's receipts by ``request_id``; without an index each
# batch would read the whole receipts table.
V9 = (
    "CREATE INDEX receipts_by_request ON receipts (request_id, idx) WHERE request_id IS NOT NULL",
)
V9_DESCRIPTION = "receipts_by_request index (defaults.keep_records finds a request's receipts)"


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
        """One pass over the oldest ``batch`` requests and pages older than ``cutoff`` and
        finished, and the alert groups, silences and canary runs that may go: at most ``batch``
        rows of each table are deleted, one statement (and transaction) each; rows deleted per
        table. Call again until nothing is deleted: children go before parents, so a pass may
        leave parents the next pass removes."""
        at = self._ts(cutoff)
        deleted = dict.fromkeys(TABLES, 0)
        parked = _PARKED.format(unmatched=self._dialect.unmatched)
        sql = f"DELETE FROM receipts WHERE {self._batch_of('receipts', parked)}"
        deleted["receipts"] += await self._page_exec(sql, (at, batch))
        sql = f"DELETE FROM alert_groups WHERE {self._batch_of('alert_groups', _OLD_GROUP)}"
        deleted["alert_groups"] += await self._page_exec(sql, (at, batch))
        sql = f"DELETE FROM alert_silences WHERE {self._batch_of('alert_silences', _OLD_SILENCE)}"
        deleted["alert_silences"] += await self._page_exec(sql, (at, at, batch))
        sql = f"DELETE FROM canary_runs WHERE {self._batch_of('canary_runs', _OLD_CANARY_RUN)}"
        deleted["canary_runs"] += await self._page_exec(sql, (at, batch))
        for pick, still_old, steps in (
            (_PICK_REQUESTS, _still_old_requests, _REQUEST_STEPS),
            (_PICK_PAGES, _still_old_pages, _PAGE_STEPS),
        ):
            ids = [row["id"] for row in await self._page_fetch(pick, (at, batch))]
            if not ids:
                continue
            old = still_old(len(ids))
            for table, where in steps:
                sql = f"DELETE FROM {table} WHERE {self._batch_of(table, where.format(old=old))}"
                deleted[table] += await self._page_exec(sql, (*ids, at, batch))
        return deleted

    async def oldest_record(self) -> OldestRecord:
        request = await self._page_fetch("SELECT MIN(created_at) AS at FROM requests", ())
        page = await self._page_fetch("SELECT MIN(created_at) AS at FROM pages", ())
        return OldestRecord(
            request=self._opt_dt(request[0]["at"] if request else None),
            page=self._opt_dt(page[0]["at"] if page else None),
        )
