"""Migration v5 for both stores: the page tables, and ``page`` as a request's surface.

Why one module: SQLite and PostgreSQL need the same tables with their own time type; writing
them once, with ``{ts}`` for the type, keeps the two schemas from drifting.
"""

from __future__ import annotations

from bot.store.schema_sql import REQUEST_INDEXES, render, requests_table
from bot.store.sqlite_sql import SQLITE

PAGE_STATES = "('active', 'acknowledged', 'ended')"
SURFACES = "('slash', 'modal', 'broadcast', 'shortcut', 'cli', 'retry', 'page')"

_TABLES = (
    """
    CREATE TABLE pages (
        page_id         TEXT PRIMARY KEY,
        escalation      TEXT NOT NULL,
        text            TEXT NOT NULL,
        sender          TEXT,
        slack_channel   TEXT,
        root_ts         TEXT,
        state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN {states}),
        round           INTEGER NOT NULL DEFAULT 0,
        step            INTEGER NOT NULL DEFAULT -1,
        next_at         {ts},
        version         INTEGER NOT NULL DEFAULT 0,
        created_at      {ts} NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at {ts},
        ended_at        {ts}
    )
    """,
    "CREATE INDEX pages_due ON pages (next_at) WHERE state = 'active'",
    """
    CREATE TABLE page_sends (
        page_id    TEXT NOT NULL REFERENCES pages (page_id),
        round      INTEGER NOT NULL,
        step       INTEGER NOT NULL,
        person     TEXT NOT NULL,
        via_idx    INTEGER NOT NULL,
        channel    TEXT NOT NULL,
        request_id TEXT NOT NULL,
        ref        TEXT NOT NULL,
        sent_at    {ts} NOT NULL,
        fell_back  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (page_id, round, step, person, via_idx)
    )
    """,
    "CREATE INDEX page_sends_by_request ON page_sends (request_id)",
    """
    CREATE TABLE page_events (
        page_id   TEXT NOT NULL REFERENCES pages (page_id),
        event_key TEXT NOT NULL,
        at        {ts} NOT NULL,
        text      TEXT NOT NULL,
        posted    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (page_id, event_key)
    )
    """,
)


def page_tables(ts: str) -> tuple[str, ...]:
    return tuple(s.format(ts=ts, states=PAGE_STATES) for s in _TABLES)


# SQLite cannot change a CHECK in place: the requests table is rebuilt with 'page' allowed (the
# 12 steps of https://www.sqlite.org/lang_altertable.html#otheralter; the migration runs with
# foreign keys off, so the rebuilt table takes the old one's place for recipients, and checks
# them before it commits).
SQLITE_SURFACE = render(
    (
        requests_table(
            "requests_new",
            SURFACES,
            ",\n        reported_at       {ts},\n        provider_count    INTEGER",
        ),
        "INSERT INTO requests_new SELECT * FROM requests",
        "DROP TABLE requests",
        "ALTER TABLE requests_new RENAME TO requests",
        *REQUEST_INDEXES,
        "CREATE INDEX requests_unreported ON requests (state) WHERE reported_at IS NULL",
    ),
    SQLITE,
)

POSTGRES_SURFACE = (
    "ALTER TABLE requests DROP CONSTRAINT requests_surface_check",
    f"ALTER TABLE requests ADD CONSTRAINT requests_surface_check CHECK (surface IN {SURFACES})",
)

SQLITE_V5 = (*SQLITE_SURFACE, *page_tables("TEXT"))
POSTGRES_V5 = (*POSTGRES_SURFACE, *page_tables("TIMESTAMPTZ"))
V5_DESCRIPTION = "pages, page_sends, page_events; surface 'page'"

# v7: a timeline in the order it happened, and a page started once per idempotency key.
# ``seq`` orders events: several added in one step share ``at`` (a frozen test clock makes them
# all share it), and their keys sort alphabetically, not in time. ``idempotency_key`` (unique)
# makes a modal submitted twice — or on two replicas — start one page, as sends do.
_KEY = (
    "ALTER TABLE pages ADD COLUMN idempotency_key TEXT",
    "CREATE UNIQUE INDEX pages_by_idempotency_key ON pages (idempotency_key)",
)
_IN_ORDER = "CREATE INDEX page_events_in_order ON page_events (page_id, seq)"

# SQLite: the table is rebuilt with ``seq`` as its rowid (``INTEGER PRIMARY KEY``: the next
# insert takes max + 1, and events are never deleted). Old rows keep the order they were
# inserted in: the old table's rowid.
SQLITE_V7 = (
    *_KEY,
    """
    CREATE TABLE page_events_new (
        seq       INTEGER PRIMARY KEY,
        page_id   TEXT NOT NULL REFERENCES pages (page_id),
        event_key TEXT NOT NULL,
        at        TEXT NOT NULL,
        text      TEXT NOT NULL,
        posted    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (page_id, event_key)
    )
    """,
    "INSERT INTO page_events_new (page_id, event_key, at, text, posted)"
    " SELECT page_id, event_key, at, text, posted FROM page_events ORDER BY rowid",
    "DROP TABLE page_events",
    "ALTER TABLE page_events_new RENAME TO page_events",
    _IN_ORDER,
)

# PostgreSQL: an identity column. Old rows have no insertion order to recover (updates move
# rows on disk), so they are numbered in the order they were read before: (at, event_key).
POSTGRES_V7 = (
    *_KEY,
    "ALTER TABLE page_events ADD COLUMN seq BIGINT",
    """
    UPDATE page_events SET seq = o.n FROM (
        SELECT page_id, event_key, row_number() OVER (ORDER BY at, event_key) AS n
        FROM page_events
    ) AS o WHERE page_events.page_id = o.page_id AND page_events.event_key = o.event_key
    """,
    "ALTER TABLE page_events ALTER COLUMN seq SET NOT NULL",
    "ALTER TABLE page_events ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY",
    "SELECT setval(pg_get_serial_sequence('page_events', 'seq'),"
    " (SELECT COALESCE(MAX(seq), 0) + 1 FROM page_events), false)",
    _IN_ORDER,
)
V7_DESCRIPTION = "page_events.seq (timeline order); pages.idempotency_key"

# v8: a page's missing root message is posted again by one scheduler. ``root_claimed_until`` is
# that scheduler's claim (a compare-and-set, as ``claim_page``'s lease on ``next_at``): nobody
# else tries until it has passed, and a claimer that died leaves it to run out.
_ROOT_CLAIM = "ALTER TABLE pages ADD COLUMN root_claimed_until {ts}"
SQLITE_V8 = (_ROOT_CLAIM.format(ts="TEXT"),)
POSTGRES_V8 = (_ROOT_CLAIM.format(ts="TIMESTAMPTZ"),)
V8_DESCRIPTION = "pages.root_claimed_until (a missing root message is re-posted once)"

# v10: each page keeps the escalation's steps it started with (``bot.paging.snapshot``), so a
# config change, or a replica with a newer config, cannot shift a running page's steps. Pages
# recorded before have none and run from the config.
_STEPS = "ALTER TABLE pages ADD COLUMN escalation_steps TEXT"
SQLITE_V10 = (_STEPS,)
POSTGRES_V10 = (_STEPS,)
V10_DESCRIPTION = "pages.escalation_steps (a page runs the steps it started with)"
