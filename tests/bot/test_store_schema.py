"""The send record's file: where it lives, its pragmas, and migrations applied in order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import DEFAULT_PATH, SchemaTooNew, SQLiteStore, open_store
from bot.store.migrations import MIGRATIONS, Migration, latest_version
from tests.bot.store_fixtures import new_request, recipients

TABLES = {"requests", "recipients", "attempts", "receipts"}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def table_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


async def test_open_creates_the_parent_directory_and_every_table(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "bridge.db"
    async with SQLiteStore(path):
        pass
    assert path.exists()
    assert table_names(path) >= TABLES
    assert user_version(path) == latest_version() == MIGRATIONS[-1].version


async def test_the_file_uses_write_ahead_logging(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    async with SQLiteStore(path):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopening_a_current_database_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    async with SQLiteStore(path) as store:
        await store.create_request(new_request("R1"), recipients("R1", 2), "key-1")
    before = user_version(path)
    # Re-running the v1 statements would fail with "table already exists": opening twice more
    # proves they are skipped, and the data is untouched.
    for _ in range(2):
        async with SQLiteStore(path) as store:
            assert (await store.counts("R1"))["pending"] == 2
    assert user_version(path) == before


async def test_a_new_migration_is_applied_once_on_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    async with SQLiteStore(path) as store:
        await store.create_request(new_request("R1"), recipients("R1", 1), None)
    bumped = (
        *MIGRATIONS,
        Migration(
            MIGRATIONS[-1].version + 1,
            "a note on each request",
            ("ALTER TABLE requests ADD COLUMN note TEXT",),
        ),
    )
    async with SQLiteStore(path, migrations=bumped) as store:
        assert await store.get_request("R1") is not None
    assert user_version(path) == bumped[-1].version
    assert "note" in columns(path, "requests")
    async with SQLiteStore(path, migrations=bumped):  # and not again
        pass
    assert user_version(path) == bumped[-1].version


async def test_a_failing_migration_leaves_the_previous_version_intact(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    async with SQLiteStore(path):
        pass
    broken = (
        *MIGRATIONS,
        Migration(
            MIGRATIONS[-1].version + 1,
            "half a migration",
            ("ALTER TABLE requests ADD COLUMN half TEXT", "THIS IS NOT SQL"),
        ),
    )
    with pytest.raises(sqlite3.OperationalError):
        await SQLiteStore(path, migrations=broken).open()
    assert user_version(path) == MIGRATIONS[-1].version
    assert "half" not in columns(path, "requests")


async def test_a_database_from_a_newer_bridge_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    async with SQLiteStore(path):
        pass
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaTooNew, match="newer bridge"):
        await SQLiteStore(path).open()


def test_migrations_must_be_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


async def test_migrations_out_of_order_are_refused(tmp_path: Path) -> None:
    shuffled = (Migration(2, "b", ()), Migration(1, "a", ()))
    with pytest.raises(ValueError, match="ascending"):
        await SQLiteStore(tmp_path / "x.db", migrations=shuffled).open()


def test_the_path_comes_from_bridge_db_else_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIDGE_DB", raising=False)
    assert open_store().path == Path(DEFAULT_PATH) == Path("var/bridge.db")
    monkeypatch.setenv("BRIDGE_DB", "/srv/bridge/sends.db")
    assert open_store().path == Path("/srv/bridge/sends.db")


async def test_a_closed_store_refuses_work_and_closing_twice_is_harmless(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bridge.db")
    await store.open()
    await store.close()
    await store.close()
    with pytest.raises(Exception, match="not open"):
        await store.get_request("R1")


async def test_a_v1_record_upgrades_in_place_and_its_old_sends_count_as_reported(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.db"
    async with SQLiteStore(path, migrations=MIGRATIONS[:1]):
        pass  # a send record written by the first release
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO requests (request_id, created_at, updated_at, finished_at, surface,"
            " channel, account, route, message, state, total) VALUES ('ROLD', ?, ?, ?, 'slash',"
            " 'oncall-sms', 'tnt', '{\"service\": \"sms\"}', '{\"text\": \"hi\"}', 'done', 0)",
            ("2026-01-01T00:00:00.000000Z",) * 3,
        )
    async with SQLiteStore(path) as store:
        old = await store.get_request("ROLD")
        assert old is not None
        assert old.provider_count is None
        # Finished before v2 existed: its report was written then, not owed now.
        assert await store.unreported_requests() == []
    assert user_version(path) == latest_version()
    assert {"reported_at", "provider_count"} <= columns(path, "requests")
