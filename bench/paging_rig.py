"""What the paging benches share: percentiles, figure lines, a PostgreSQL schema of their own,
and reading a page id and an acknowledge link out of what an emulator accepted."""

from __future__ import annotations

import math
import os
import re
import uuid
from typing import Any

PG_URL = os.environ.get("BRIDGE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
LINK = re.compile(r"http://127\.0\.0\.1:\d+/ack/\S+")
PAGE_ID = re.compile(r"\bP[0-9A-Z]{8}\b")
Check = tuple[str, bool]


def pct(values: list[float], q: float) -> float:
    """Nearest rank; 0 for no values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else 0.0


def figures(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 0.5) * 1000:7.0f} ms  p99 {pct(values, 0.99) * 1000:7.0f} ms"
        f"  max {max(values, default=0) * 1000:7.0f} ms  (n={len(values)})"
    )


def text_of(payload: Any) -> str:
    """The words of a send as an emulator recorded it (TalkNTalk's ``message``, or the whole
    body for a WhatsApp payload whose text sits deeper)."""
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return str(payload["message"])
    return str(payload)


def page_of(payload: Any) -> str | None:
    found = PAGE_ID.search(text_of(payload))
    return found.group(0) if found else None


def db_env(schema: str | None) -> dict[str, str] | None:
    """``BRIDGE_DB`` for a bench's own PostgreSQL schema (None: the world's SQLite file)."""
    if schema is None:
        return None
    return {"BRIDGE_DB": f"{PG_URL}{'&' if '?' in PG_URL else '?'}search_path={schema}"}


async def pg_schema(drop: str | None = None) -> str | None:
    """A fresh schema (or drop one); None when PostgreSQL is not reachable."""
    try:
        import asyncpg

        admin = await asyncpg.connect(PG_URL, timeout=5)
    except (TimeoutError, OSError, ImportError) as exc:
        print(f"PostgreSQL skipped: {PG_URL} not reachable ({type(exc).__name__})")
        return None
    try:
        if drop:
            await admin.execute(f"DROP SCHEMA IF EXISTS {drop} CASCADE")
            return None
        schema = f"bench_paging_{uuid.uuid4().hex[:10]}"
        await admin.execute(f"CREATE SCHEMA {schema}")
        return schema
    finally:
        await admin.close()
