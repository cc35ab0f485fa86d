"""Many alert notifications recorded in one transaction, written once for both stores.

Why: a storm is hundreds of notifications a second, mostly repeats of a few hundred groups, and
each must be committed before it is answered 202. One transaction each (three statements, one
commit, one fsync) cost PostgreSQL more round trips than the storm left time for. Here the
notifications that arrive together (``bot.alerts.batcher``) are one transaction of a few
statements whatever their number: the firing rows of every key they name are locked and read
at once (in one order, so two replicas never wait on each other in a cycle), the repeats of
each group are counted by one ``UPDATE`` (``count = count + n``), new groups are one ``INSERT``
and resolves one ``UPDATE``.

Order is kept per group: a group's notifications are cut into runs (repeats in a row, then a
resolve, then repeats again…) and each round of statements takes the next run of every group,
so "firing, resolved, firing" in one batch still ends a group and opens a new one. Groups are
independent of each other, so their order within a round does not matter. A new group that
another transaction (a replica) inserted first is counted as a repeat of it in the next try.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store.alerts_base import AlertGroup, AlertNote, NewAlertGroup, Recorded
from bot.store.pages_base import NewPage
from bot.store.silences_base import Silence
from bot.store.silences_sql import in_force_query
from bot.store.sql import Sql

# An insert losing to another transaction's, then the group it lost to resolved before it is
# counted: the round is tried again this often.
_TRIES = 3
_KEY = (("v_integration", "text"), ("v_hash", "text"))


@dataclass
class _Run:
    """A group's notifications in a row of one kind: their indexes in the batch."""

    key: tuple[str, str]
    firing: bool
    indexes: list[int]


ToGroup = Callable[[Mapping[str, Any]], AlertGroup]
ToSilence = Callable[[Mapping[str, Any]], Silence]


def runs_of(notes: Sequence[AlertNote]) -> list[list[_Run]]:
    """Rounds of runs: round ``r`` holds the ``r``-th run of every group."""
    per_key: dict[tuple[str, str], list[_Run]] = {}
    for index, note in enumerate(notes):
        runs = per_key.setdefault(note.key, [])
        firing = note.opening is not None
        if runs and runs[-1].firing == firing:
            runs[-1].indexes.append(index)
        else:
            runs.append(_Run(note.key, firing, [index]))
    rounds: list[list[_Run]] = []
    for runs in per_key.values():
        for r, run in enumerate(runs):
            if r == len(rounds):
                rounds.append([])
            rounds[r].append(run)
    return rounds


@dataclass
class _Batch:
    """One ``record`` call's inputs and what it has found so far, handed to each statement."""

    sql: Sql
    notes: Sequence[AlertNote]
    to_group: ToGroup
    to_silence: ToSilence
    # What became of each note, by its index; filled round by round.
    done: list[Recorded | None]
    # Each integration's silences in force, read once per batch when a group first opens.
    silences: dict[str, list[Silence]] = field(default_factory=dict)

    def last(self, run: _Run) -> AlertNote:
        return self.notes[run.indexes[-1]]


async def record(
    sql: Sql, notes: Sequence[AlertNote], to_group: ToGroup, to_silence: ToSilence
) -> list[Recorded]:
    """Record ``notes`` (in the caller's transaction): what became of each, in order."""
    batch = _Batch(sql, notes, to_group, to_silence, [None] * len(notes))
    for round_ in runs_of(notes):
        await _round(batch, round_)
    return [found if found is not None else Recorded(None, False) for found in batch.done]


async def _round(batch: _Batch, runs: list[_Run]) -> None:
    left = runs
    for _ in range(_TRIES):
        firing = await _lock_firing(batch, [run.key for run in left])
        resolves = [run for run in left if not run.firing]
        await _resolve(batch, resolves, firing)
        repeats = [run for run in left if run.firing and run.key in firing]
        await _count(batch, repeats, firing)
        new = [run for run in left if run.firing and run.key not in firing]
        left = await _open(batch, new)
        if not left:
            return
    raise RuntimeError("an alert group kept changing while it was recorded; try again")


async def _lock_firing(
    batch: _Batch, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], AlertGroup]:
    """The firing group of each key, its row locked to the commit where writers race."""
    if not keys:
        return {}
    sql, to_group = batch.sql, batch.to_group
    dialect = sql.dialect
    rows = await sql.fetch(
        f"WITH v (v_integration, v_hash) AS ({dialect.rows(_KEY, len(keys))})"
        " SELECT g.* FROM alert_groups g JOIN v ON g.integration = v.v_integration"
        " AND g.group_hash = v.v_hash WHERE g.state = 'firing'" + dialect.locked("g.group_id", "g"),
        dialect.rows_params(keys),
    )
    groups = [to_group(_mapping(row)) for row in rows]
    return {(g.integration, g.group_hash): g for g in groups}


async def _count(
    batch: _Batch, runs: list[_Run], firing: dict[tuple[str, str], AlertGroup]
) -> None:
    """Each run of repeats counted by one row of one ``UPDATE``: count + n, the last's state."""
    if not runs:
        return
    sql, done, to_group = batch.sql, batch.done, batch.to_group
    dialect = sql.dialect
    columns = (
        ("v_id", "text"),
        ("v_n", "integer"),
        ("v_at", dialect.ddl["ts"]),
        ("v_detail", "text"),
    )
    values = [
        (
            firing[run.key].group_id,
            len(run.indexes),
            dialect.ts(batch.last(run).at),
            batch.last(run).detail,
        )
        for run in runs
    ]
    rows = await sql.fetch(
        f"WITH v (v_id, v_n, v_at, v_detail) AS ({dialect.rows(columns, len(values))})"
        " UPDATE alert_groups SET count = count + v.v_n, last_at = v.v_at, detail = v.v_detail"
        " FROM v WHERE alert_groups.group_id = v.v_id RETURNING *",
        dialect.rows_params(values),
    )
    counted = {g.group_id: g for g in (to_group(_mapping(row)) for row in rows)}
    for run in runs:
        group = counted[firing[run.key].group_id]  # locked above: it is still firing
        for index in run.indexes:
            done[index] = Recorded(group, False)


async def _resolve(
    batch: _Batch, runs: list[_Run], firing: dict[tuple[str, str], AlertGroup]
) -> None:
    """Each group's resolve in one ``UPDATE``; a resolve with nothing firing is ignored (and so
    is a second resolve in a row: the first ended it)."""
    sql, notes, done, to_group = batch.sql, batch.notes, batch.done, batch.to_group
    hits = [run for run in runs if run.key in firing]
    for run in runs:
        for index in run.indexes:
            done[index] = Recorded(None, False)
    if not hits:
        return
    dialect = sql.dialect
    columns = (("v_id", "text"), ("v_at", dialect.ddl["ts"]), ("v_detail", "text"))
    values = [
        (
            firing[run.key].group_id,
            dialect.ts(notes[run.indexes[0]].at),
            notes[run.indexes[0]].detail,
        )
        for run in hits
    ]
    rows = await sql.fetch(
        f"WITH v (v_id, v_at, v_detail) AS ({dialect.rows(columns, len(values))})"
        " UPDATE alert_groups SET state = 'resolved', resolved_at = v.v_at, last_at = v.v_at,"
        " detail = COALESCE(v.v_detail, alert_groups.detail) FROM v"
        " WHERE alert_groups.group_id = v.v_id AND alert_groups.state = 'firing' RETURNING *",
        dialect.rows_params(values),
    )
    ended = {g.group_id: g for g in (to_group(_mapping(row)) for row in rows)}
    for run in hits:
        done[run.indexes[0]] = Recorded(ended[firing[run.key].group_id], False)


async def _open(batch: _Batch, runs: list[_Run]) -> list[_Run]:
    """A new group for each run (counting all its notifications); the runs whose insert lost
    to another transaction's, to be counted as repeats in the next try."""
    if not runs:
        return []
    sql, notes, done, silences = batch.sql, batch.notes, batch.done, batch.silences
    dialect = sql.dialect
    new: list[tuple[_Run, NewAlertGroup, NewPage | None]] = []
    for run in runs:
        first = notes[run.indexes[0]]
        assert first.opening is not None  # a firing run
        if first.integration not in silences:
            silences[first.integration] = await _silences(
                sql, first.integration, first.at, batch.to_silence
            )
        new.append((run, *first.opening(silences[first.integration])))
    columns = (
        ("v_id", "text"), ("v_integration", "text"), ("v_hash", "text"), ("v_key", "text"),
        ("v_escalation", "text"), ("v_title", "text"), ("v_detail", "text"), ("v_n", "integer"),
        ("v_first", dialect.ddl["ts"]), ("v_last", dialect.ddl["ts"]), ("v_channel", "text"),
        ("v_silence", "text"), ("v_page", "text"),
    )  # fmt: skip
    values = [
        (
            group.group_id, group.integration, group.group_hash, group.group_key,
            group.escalation, group.title, batch.last(run).detail, len(run.indexes),
            dialect.ts(group.at), dialect.ts(batch.last(run).at), group.slack_channel,
            group.silence_id, page.page_id if page is not None else None,
        )
        for run, group, page in new
    ]  # fmt: skip
    names = ", ".join(name for name, _ in columns)
    rows = await sql.fetch(
        f"WITH v ({names}) AS ({dialect.rows(columns, len(values))})"
        " INSERT INTO alert_groups (group_id, integration, group_hash, group_key, escalation,"
        " title, detail, count, first_at, last_at, slack_channel, silence_id, page_id)"
        f" SELECT {names} FROM v WHERE true ON CONFLICT DO NOTHING RETURNING *",
        dialect.rows_params(values),
    )
    opened = {g.group_id: g for g in (batch.to_group(_mapping(row)) for row in rows)}
    lost: list[_Run] = []
    for run, group, _ in new:
        found = opened.get(group.group_id)
        if found is None:
            lost.append(run)
            continue
        done[run.indexes[0]] = Recorded(found, True)
        for index in run.indexes[1:]:
            done[index] = Recorded(found, False)
    await _start_pages(sql, [page for _, g, page in new if page and g.group_id in opened])
    return lost


async def _start_pages(sql: Sql, pages: list[NewPage]) -> None:
    """The new groups' pages, due at once, in the transaction that records their groups: a
    group answered 202 has its page, whatever happens to this process next (the scheduler of
    any replica runs it). Their keys are new (``alert:<new group id>``): nothing conflicts."""
    if not pages:
        return
    dialect = sql.dialect
    ts = dialect.ddl["ts"]
    columns = (
        ("v_id", "text"), ("v_escalation", "text"), ("v_text", "text"), ("v_sender", "text"),
        ("v_channel", "text"), ("v_next", ts), ("v_created", ts), ("v_key", "text"),
        ("v_steps", "text"),
    )  # fmt: skip
    values = [
        (
            p.page_id, p.escalation, p.text, p.sender, p.slack_channel, dialect.ts(p.created_at),
            dialect.ts(p.created_at), p.idempotency_key, p.escalation_steps,
        )
        for p in pages
    ]  # fmt: skip
    names = ", ".join(name for name, _ in columns)
    await sql.execute(
        f"WITH v ({names}) AS ({dialect.rows(columns, len(values))})"
        " INSERT INTO pages (page_id, escalation, text, sender, slack_channel, next_at,"
        f" created_at, idempotency_key, escalation_steps) SELECT {names} FROM v",
        dialect.rows_params(values),
    )


async def _silences(
    sql: Sql, integration: str, now: datetime, to_silence: ToSilence
) -> list[Silence]:
    """The integration's silences in force, newest first (as ``active_silences``)."""
    rows = await sql.fetch(*in_force_query(sql.dialect.ts(now), integration))
    return [to_silence(_mapping(row)) for row in rows]


def _mapping(row: Any) -> Mapping[str, Any]:
    """``sqlite3.Row`` and ``asyncpg.Record`` both read a column by name."""
    return row  # type: ignore[no-any-return]
