"""How long ``defaults.keep_records`` holds the send record up: one purge of a big old record.

Fills a fresh store (SQLite file, and PostgreSQL at ``$BRIDGE_BENCH_POSTGRES_URL`` in a schema
of its own, dropped after) with ``--requests`` old finished requests of ``--recipients`` each
(one attempt and one matched receipt per recipient) and as many recent ones, then runs the real
``Purger.run_once`` and prints: the run's wall time, rows removed per second, and the longest
single statement (the longest any send, receipt or page write could wait behind the purge). The
statements are timed by wrapping the store's one write primitive. Target: the longest statement
under 250 ms at 500 rows a statement, and every old row gone and every recent one kept; exit 1 on
a miss. A shared two-CPU machine: read the load average first.

    .venv/bin/python bench/retention.py [--requests 20000] [--recipients 5]
        [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bot.retention import BATCH, Purger
from bot.store import SQLiteStore
from bot.store.postgres import PostgresStore
from bot.store.sqlite_rows import to_text

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=120)
RECENT = NOW - timedelta(days=10)
KEEP = timedelta(days=90)
TARGET_MS = 250.0
PG_URL = os.environ.get("BRIDGE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def rows(
    requests: int, recipients: int, start: int, at: datetime, ts: Any, matched: object
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of ``requests`` finished, reported requests created at ``at``."""
    out: dict[str, list[tuple[Any, ...]]] = {"requests": [], "recipients": [], "attempts": []}
    out["receipts"] = []
    when = ts(at)
    for n in range(start, start + requests):
        rid = f"R{n:08d}"
        out["requests"].append(
            (rid, when, when, "slash", "oncall-sms", "tnt", "{}", "{}", "done", recipients, when)
        )
        for i in range(recipients):
            ref, message_id = f"{rid}-{i}", f"m{rid}{i}"
            number = f"+2547{n % 10**8:08d}"
            out["recipients"].append((rid, i, number, ref, "delivered", message_id, when))
            out["attempts"].append((rid, i, 1, when))
            receipt = ("tnt", message_id, ref, "delivered", f"e{rid}{i}", when, rid, i, matched)
            out["receipts"].append(receipt)
    return out


INSERTS = {
    "requests": "INSERT INTO requests (request_id, created_at, updated_at, surface, channel,"
    " account, route, message, state, total, reported_at) VALUES ({})",
    "recipients": "INSERT INTO recipients (request_id, idx, address, ref, status,"
    " provider_message_id, updated_at) VALUES ({})",
    "attempts": "INSERT INTO attempts (request_id, idx, attempt, started_at) VALUES ({})",
    "receipts": "INSERT INTO receipts (account, provider_message_id, ref, status, event_key,"
    " received_at, request_id, idx, matched) VALUES ({})",
}


def sqlite_fill(path: Path, batches: Sequence[dict[str, list[tuple[Any, ...]]]]) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for batch in batches:
            for table, values in batch.items():
                db.executemany(INSERTS[table].format(", ".join("?" * len(values[0]))), values)


async def pg_fill(
    url: str, schema: str, batches: Sequence[dict[str, list[tuple[Any, ...]]]]
) -> None:
    conn = await asyncpg.connect(url, server_settings={"search_path": schema})
    try:
        for batch in batches:
            for table, values in batch.items():
                marks = ", ".join(f"${i}" for i in range(1, len(values[0]) + 1))
                await conn.executemany(INSERTS[table].format(marks), values)
    finally:
        await conn.close()


async def measure(
    store: SQLiteStore | PostgresStore, total_old: int, expect_kept: int
) -> tuple[bool, str]:
    timings: list[float] = []
    write = store._page_exec

    async def timed(sql: str, params: Sequence[object]) -> int:
        started = time.perf_counter()
        try:
            return await write(sql, params)
        finally:
            timings.append(time.perf_counter() - started)

    store._page_exec = timed  # type: ignore[method-assign]
    started = time.perf_counter()
    run = await Purger(store, KEEP, clock=lambda: NOW, owner="bench").run_once()
    seconds = time.perf_counter() - started
    kept = int((await store._page_fetch("SELECT COUNT(*) AS n FROM requests", ()))[0]["n"])
    longest = max(timings) * 1000
    ok = run.total == total_old and kept == expect_kept and longest < TARGET_MS
    line = (
        f"{run.total} rows in {seconds:.2f} s ({run.total / seconds:,.0f} rows/s), "
        f"{len(timings)} statements, longest {longest:.0f} ms (target < {TARGET_MS:.0f}), "
        f"{kept} of {expect_kept} recent requests kept — {'PASS' if ok else 'FAIL'}"
    )
    return ok, line


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--recipients", type=int, default=5)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name})")  # figures are per Python
    print(f"load average {os.getloadavg()[0]:.1f}; {BATCH} rows a statement")
    total_old = args.requests * (1 + 3 * args.recipients)
    ok = True
    for kind in args.stores.split(","):
        if kind == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "bridge.db"
                async with SQLiteStore(path):
                    pass  # the schema
                old = rows(args.requests, args.recipients, 0, OLD, to_text, 1)
                new = rows(args.requests, args.recipients, args.requests, RECENT, to_text, 1)
                sqlite_fill(path, [old, new])
                async with SQLiteStore(path, clock=lambda: NOW) as store:
                    passed, line = await measure(store, total_old, args.requests)
        else:
            schema = f"bench_retention_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(PG_URL)
            await admin.execute(f"CREATE SCHEMA {schema}")
            target = f"{PG_URL}?search_path={schema}"
            try:
                async with PostgresStore(target):
                    pass
                ident = lambda moment: moment  # noqa: E731
                old = rows(args.requests, args.recipients, 0, OLD, ident, True)
                new = rows(args.requests, args.recipients, args.requests, RECENT, ident, True)
                await pg_fill(PG_URL, schema, [old, new])
                async with PostgresStore(target, clock=lambda: NOW) as store:
                    passed, line = await measure(store, total_old, args.requests)
            finally:
                await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                await admin.close()
        print(f"{kind}: {line}")
        ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
