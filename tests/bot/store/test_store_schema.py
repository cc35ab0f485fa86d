"""The send record's database: where it lives, and migrations applied in order, once."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from bot.store import (
    DEFAULT_PATH,
    SchemaTooNew,
    SQLiteStore,
    StoreError,
    open_store,
    redact_url,
)
from bot.store.migrations import MIGRATIONS, Migration, latest_version
from bot.store.postgres import PostgresStore
from bot.store.postgres_schema import MIGRATIONS as PG_MIGRATIONS
from tests.bot.store_backends import Backend
from tests.bot.store_fixtures import Clock, new_request, recipients

TABLES = {"requests", "recipients", "attempts", "receipts"}


def test_both_backends_are_at_the_same_schema_version() -> None:
    # One version per change, on both: a migration added to one only is a bug.
    assert [(m.version, m.description) for m in PG_MIGRATIONS] == [
        (m.version, m.description) for m in MIGRATIONS
    ]


async def test_open_creates_the_parent_directory_and_every_table(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "bridge.db"
    async with SQLiteStore(path):
        pass
    assert path.exists()


async def test_open_creates_every_table(backend: Backend) -> None:
    async with backend.store():
        pass
    assert await backend.tables() >= TABLES
    assert await backend.version() == latest_version() == backend.migrations[-1].version


async def test_the_file_uses_write_ahead_logging(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    async with SQLiteStore(path):
        pass
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopening_a_current_database_changes_nothing(backend: Backend) -> None:
    async with backend.store() as store:
        await store.create_request(new_request("R1"), recipients("R1", 2), "key-1")
    before = await backend.version()
    # Re-running the v1 statements would fail with "table already exists": opening twice more
    # proves they are skipped, and the data is untouched.
    for _ in range(2):
        async with backend.store() as store:
            assert (await store.counts("R1"))["pending"] == 2
    assert await backend.version() == before


async def test_a_new_migration_is_applied_once_on_the_next_open(backend: Backend) -> None:
    async with backend.store() as store:
        await store.create_request(new_request("R1"), recipients("R1", 1), None)
    bumped = (
        *backend.migrations,
        Migration(
            backend.migrations[-1].version + 1,
            "a note on each request",
            ("ALTER TABLE requests ADD COLUMN note TEXT",),
        ),
    )
    async with backend.store(migrations=bumped) as store:
        assert await store.get_request("R1") is not None
    assert await backend.version() == bumped[-1].version
    assert "note" in await backend.columns("requests")
    async with backend.store(migrations=bumped):  # and not again
        pass
    assert await backend.version() == bumped[-1].version


async def test_a_failing_migration_leaves_the_previous_version_intact(backend: Backend) -> None:
    async with backend.store():
        pass
    broken = (
        *backend.migrations,
        Migration(
            backend.migrations[-1].version + 1,
            "half a migration",
            ("ALTER TABLE requests ADD COLUMN half TEXT", "THIS IS NOT SQL"),
        ),
    )
    with pytest.raises(backend.sql_error):
        await backend.store(migrations=broken).open()
    assert await backend.version() == backend.migrations[-1].version
    assert "half" not in await backend.columns("requests")


async def test_a_database_from_a_newer_bridge_is_refused(backend: Backend) -> None:
    async with backend.store():
        pass
    await backend.set_version(99)
    with pytest.raises(SchemaTooNew, match="newer bridge"):
        await backend.store().open()


def test_migrations_must_be_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


async def test_migrations_out_of_order_are_refused(backend: Backend) -> None:
    shuffled = (Migration(2, "b", ()), Migration(1, "a", ()))
    with pytest.raises(ValueError, match="ascending"):
        await backend.store(migrations=shuffled).open()


def test_the_path_comes_from_bridge_db_else_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIDGE_DB", raising=False)
    default = open_store()
    assert isinstance(default, SQLiteStore)
    assert default.path == Path(DEFAULT_PATH) == Path("var/bridge.db")
    monkeypatch.setenv("BRIDGE_DB", "/srv/bridge/sends.db")
    chosen = open_store()
    assert isinstance(chosen, SQLiteStore)
    assert chosen.path == Path("/srv/bridge/sends.db")


@pytest.mark.parametrize(
    "url", ["postgresql://bridge@db.internal:5432/bridge", "postgres://bridge@db/bridge"]
)
def test_a_postgresql_url_in_bridge_db_selects_postgresql(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("BRIDGE_DB", url)
    chosen = open_store()  # not opened: nothing connects
    assert isinstance(chosen, PostgresStore)
    assert (chosen.kind, chosen.url) == ("postgresql", url)


def test_a_database_password_is_never_shown() -> None:
    url = "postgresql://bridge:s3cret-pw@db.internal:5432/bridge?search_path=b"
    assert redact_url(url) == "postgresql://bridge:***@db.internal:5432/bridge?search_path=b"
    assert "s3cret" not in repr(open_store(url))


async def test_an_unreachable_postgresql_is_refused_with_where_and_what_to_check() -> None:
    store = PostgresStore("postgresql://bridge:s3cret-pw@127.0.0.1:1/bridge", timeout=5)
    with pytest.raises(StoreError, match="cannot reach") as raised:
        await store.open()
    assert "s3cret" not in str(raised.value)
    assert "BRIDGE_DB" in str(raised.value)


async def test_a_closed_store_refuses_work_and_closing_twice_is_harmless(
    backend: Backend,
) -> None:
    store = backend.store()
    await store.open()
    await store.close()
    await store.close()
    with pytest.raises(Exception, match="not open"):
        await store.get_request("R1")


async def test_a_v1_record_upgrades_in_place_and_its_old_sends_count_as_reported(
    backend: Backend,
) -> None:
    async with backend.store(migrations=backend.migrations[:1]):
        pass  # a send record written by the first release
    await backend.fetch(
        "INSERT INTO requests (request_id, created_at, updated_at, finished_at, surface,"
        " channel, account, route, message, state, total) VALUES ('ROLD',"
        " '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z',"
        " '2026-01-01T00:00:00.000000Z', 'slash',"
        " 'oncall-sms', 'tnt', '{\"service\": \"sms\"}', '{\"text\": \"hi\"}', 'done', 0)"
    )
    async with backend.store() as store:
        old = await store.get_request("ROLD")
        assert old is not None
        assert old.provider_count is None
        # Finished before v2 existed: its report was written then, not owed now.
        assert await store.unreported_requests() == []
    assert await backend.version() == latest_version()
    assert {"reported_at", "provider_count"} <= await backend.columns("requests")


async def test_open_store_passes_the_clock_to_either_backend(backend: Backend) -> None:
    clock = Clock()
    async with open_store(backend.target, clock=clock) as store:
        record, _ = await store.create_request(new_request("R1"), recipients("R1", 1), None)
    assert record.created_at == clock.now
