"""Canary runs, written once for both stores: one row per (canary, period), so a period's test
runs once across replicas, and its judgement is written once.

Why a row keyed by (canary, period): the insert that claims a period is the only way to run it;
a second replica's insert meets the primary key and does nothing. A run claimed but never judged
(its replica died) is judged by any replica that looks later, from the send record, because the
send's idempotency key is the run's own (``canary:NAME:PERIOD``). Migration 12.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.store.pages_sql import PagesSql

V12_DESCRIPTION = "canary_runs (each channel's test message once per period across replicas)"
_TABLE = """
    CREATE TABLE canary_runs (
        canary      TEXT NOT NULL,
        period      {ts} NOT NULL,
        claimed_at  {ts} NOT NULL,
        request_id  TEXT,
        judged_at   {ts},
        ok          INTEGER,
        reason      TEXT,
        PRIMARY KEY (canary, period)
    )
"""
_INDEX = "CREATE INDEX canary_runs_unjudged ON canary_runs (canary) WHERE judged_at IS NULL"
SQLITE_V12 = (_TABLE.format(ts="TEXT"), _INDEX)
POSTGRES_V12 = (_TABLE.format(ts="TIMESTAMPTZ"), _INDEX)


@dataclass(frozen=True)
class CanaryRun:
    canary: str
    period: datetime
    claimed_at: datetime
    request_id: str | None
    judged_at: datetime | None
    ok: bool | None
    reason: str | None


class CanaryStore(Protocol):
    async def claim_canary(self, canary: str, period: datetime, at: datetime) -> bool: ...

    async def canary_sent(self, canary: str, period: datetime, request_id: str) -> None: ...

    async def unjudged_canaries(self) -> list[CanaryRun]: ...

    async def judge_canary(
        self, canary: str, period: datetime, ok: bool, reason: str | None, at: datetime
    ) -> bool: ...

    async def last_canaries(self) -> dict[str, tuple[CanaryRun, datetime | None]]: ...


class CanarySql(PagesSql):
    """``CanaryStore`` over the page tables' primitives (placeholders ``?``, ``_ts``/``_dt``)."""

    def _canary_run(self, row: Mapping[str, Any]) -> CanaryRun:
        return CanaryRun(
            canary=row["canary"],
            period=self._dt(row["period"]),
            claimed_at=self._dt(row["claimed_at"]),
            request_id=row["request_id"],
            judged_at=self._opt_dt(row["judged_at"]),
            ok=None if row["ok"] is None else bool(row["ok"]),
            reason=row["reason"],
        )

    async def claim_canary(self, canary: str, period: datetime, at: datetime) -> bool:
        """True for the one caller whose insert made the run (the one that sends)."""
        inserted = await self._page_exec(
            "INSERT INTO canary_runs (canary, period, claimed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (canary, period) DO NOTHING",
            (canary, self._ts(period), self._ts(at)),
        )
        return inserted > 0

    async def canary_sent(self, canary: str, period: datetime, request_id: str) -> None:
        await self._page_exec(
            "UPDATE canary_runs SET request_id = ? WHERE canary = ? AND period = ?",
            (request_id, canary, self._ts(period)),
        )

    async def unjudged_canaries(self) -> list[CanaryRun]:
        rows = await self._page_fetch(
            "SELECT * FROM canary_runs WHERE judged_at IS NULL ORDER BY claimed_at", ()
        )
        return [self._canary_run(row) for row in rows]

    async def judge_canary(
        self, canary: str, period: datetime, ok: bool, reason: str | None, at: datetime
    ) -> bool:
        """True for the one caller that wrote the judgement (the one that announces it)."""
        changed = await self._page_exec(
            "UPDATE canary_runs SET judged_at = ?, ok = ?, reason = ?"
            " WHERE canary = ? AND period = ? AND judged_at IS NULL",
            (self._ts(at), int(ok), reason, canary, self._ts(period)),
        )
        return changed > 0

    async def last_canaries(self) -> dict[str, tuple[CanaryRun, datetime | None]]:
        """Each canary's latest judged run, and when it last passed (None: never)."""
        latest = await self._page_fetch(
            "SELECT r.* FROM canary_runs AS r WHERE r.judged_at IS NOT NULL AND r.period ="
            " (SELECT MAX(x.period) FROM canary_runs AS x"
            "  WHERE x.canary = r.canary AND x.judged_at IS NOT NULL)",
            (),
        )
        good = await self._page_fetch(
            "SELECT canary, MAX(judged_at) AS at FROM canary_runs WHERE ok = 1 GROUP BY canary",
            (),
        )
        last_ok = {row["canary"]: self._opt_dt(row["at"]) for row in good}
        return {
            row["canary"]: (self._canary_run(row), last_ok.get(row["canary"])) for row in latest
        }
