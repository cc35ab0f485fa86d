"""The silence table's operations, written once for both stores over ``PagesSql``'s dialect
hooks (``_page_exec``, ``_page_fetch``, ``_ts``, ``_dt``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.store.heartbeats_sql import HeartbeatsSql
from bot.store.silences_base import Silence, matchers_of

_IN_FORCE = "ended_at IS NULL AND starts_at <= ? AND ends_at > ?"


def in_force_query(at: object, integration: str | None) -> tuple[str, list[object]]:
    """The ``SELECT`` of the silences in force at ``at`` (a dialect timestamp), newest first,
    and its parameters: one text for ``active_silences`` and the batch that opens groups."""
    where, params = _IN_FORCE, [at, at]
    if integration is not None:
        where += " AND integration = ?"
        params.append(integration)
    return f"SELECT * FROM alert_silences WHERE {where} ORDER BY starts_at DESC, silence_id", params


class SilencesSql(HeartbeatsSql):
    """``bot.store.silences_base.SilenceStore`` on the page tables' primitives."""

    def _silence(self, row: Mapping[str, Any]) -> Silence:
        return Silence(
            silence_id=row["silence_id"],
            integration=row["integration"],
            matchers=matchers_of(row["matchers"]),
            reason=row["reason"],
            created_by=row["created_by"],
            starts_at=self._dt(row["starts_at"]),
            ends_at=self._dt(row["ends_at"]),
            ended_at=self._opt_dt(row["ended_at"]),
            ended_by=row["ended_by"],
        )

    async def create_silence(self, silence: Silence) -> None:
        await self._page_exec(
            "INSERT INTO alert_silences (silence_id, integration, matchers, reason, created_by,"
            " starts_at, ends_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                silence.silence_id,
                silence.integration,
                silence.matches_json(),
                silence.reason,
                silence.created_by,
                self._ts(silence.starts_at),
                self._ts(silence.ends_at),
            ),
        )

    async def silence(self, silence_id: str) -> Silence | None:
        rows = await self._page_fetch(
            "SELECT * FROM alert_silences WHERE silence_id = ?", (silence_id,)
        )
        return self._silence(rows[0]) if rows else None

    async def active_silences(self, integration: str | None, now: datetime) -> list[Silence]:
        rows = await self._page_fetch(*in_force_query(self._ts(now), integration))
        return [self._silence(r) for r in rows]

    async def end_silence(self, silence_id: str, by: str, at: datetime) -> bool:
        moment = self._ts(at)
        return bool(
            await self._page_exec(
                f"UPDATE alert_silences SET ended_at = ?, ended_by = ?"
                f" WHERE silence_id = ? AND {_IN_FORCE}",
                (moment, by, silence_id, moment, moment),
            )
        )
