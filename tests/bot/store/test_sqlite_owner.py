"""One process owns a SQLite send record (issue: a second ``serve`` on the same file resumed the
first one's send in progress and sent it twice).

Real processes throughout: a ``serve`` child with a send going out, a second ``serve`` on the
same ``BRIDGE_DB``, the read-only ``history`` beside it, and a ``kill -9`` that must free it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SQLiteStore, StoreLocked
from bot.store.sqlite_lock import lock_path
from tests.bot.crash_kit import REPO as ROOT
from tests.bot.crash_kit import CrashRig, eventually, free_port, snapshot, start_rig

TEXT = "crowd-sms Water main burst on Ngong Rd; avoid the area until 18:00"
OPEN_STORE = """
import asyncio, sys
from bot.store import StoreError, open_store
async def main() -> None:
    async with open_store(sys.argv[1], reader=sys.argv[2] == "reader") as store:
        print("opened", len(await store.recent_requests(None, 5)))
try:
    asyncio.run(main())
except StoreError as exc:
    print("refused:", exc)
"""


async def python(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, env=env or dict(os.environ),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            out, _ = await proc.communicate()
    except TimeoutError:  # a second serve that was not refused runs on: never leave it behind
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode()


async def test_another_process_is_refused_with_the_file_and_our_pid(tmp_path: Path) -> None:
    db = tmp_path / "bridge.db"
    async with SQLiteStore(db), SQLiteStore(db):  # one process may open it twice
        code, out = await python("-c", OPEN_STORE, str(db), "owner")
        assert code == 0, out
        [line] = out.splitlines()
        assert line.startswith("refused: ")
        assert str(db) in line
        assert f"pid {os.getpid()}" in line
        assert str(lock_path(db)) in line
        # A reader may read beside the owner, and writes nothing.
        code, out = await python("-c", OPEN_STORE, str(db), "reader")
        assert (code, out.strip()) == (0, "opened 0")
    code, out = await python("-c", OPEN_STORE, str(db), "owner")  # closed: free again
    assert (code, out.strip()) == (0, "opened 0")


async def test_the_lock_is_let_go_only_when_the_last_store_of_the_process_closes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bridge.db"
    first, second = SQLiteStore(db), SQLiteStore(db)
    await first.open()
    await second.open()
    await first.close()
    _, out = await python("-c", OPEN_STORE, str(db), "owner")
    assert out.startswith("refused: "), out  # the second still holds it
    await second.close()
    await second.close()  # closing twice does not let go of anyone else's
    async with SQLiteStore(db):
        _, out = await python("-c", OPEN_STORE, str(db), "owner")
        assert out.startswith("refused: "), out


async def test_a_reader_of_a_file_nobody_owns_migrates_it_like_an_owner(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    async with SQLiteStore(db, reader=True) as store:
        assert await store.recent_requests(None, 5) == []
    async with SQLiteStore(db) as store:  # let go on close
        assert store.reader is False


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[CrashRig]:
    running = await start_rig(tmp_path, latency=0.3)  # 20 numbers, 2 at a time: ~3 s of sending
    try:
        yield running
    finally:
        await running.close()


async def test_a_second_serve_on_the_same_file_refuses_and_nothing_is_sent_twice(
    rig: CrashRig,
) -> None:
    first = await rig.start_bridge()
    assert await rig.slash(TEXT) == 200
    await eventually(lambda: 2 <= len(rig.tnt.deliveries) < 20, what="a send going out")
    config = str(rig.tmp / "bridge.yaml")
    other_port = {**rig.env(), "PORT": str(free_port())}

    code, out = await python("-m", "bot", "--config", config, "serve", env=other_port)
    assert code == 1, out
    assert "Traceback" not in out
    [line] = [x for x in out.splitlines() if x.startswith("error: ")]
    assert str(rig.db) in line
    assert f"pid {first.proc.pid}" in line
    assert "resuming" not in out

    # `history` only reads: it works beside the owner. `send` would write: refused the same way.
    code, out = await python("-m", "bot", "--config", config, "history", env=rig.env())
    assert code == 0, out
    assert "crowd-sms" in out
    code, out = await python(
        "-m", "bot", "--config", config, "send", "--channel", "crowd-sms", "--text", "x",
        env=rig.env(),
    )  # fmt: skip
    assert code == 1, out
    assert f"pid {first.proc.pid}" in out

    await eventually(lambda: len(rig.tnt.deliveries) == 20, what="the send finishing", timeout=30)
    await asyncio.sleep(0.5)  # room for a duplicate to arrive, were one sent
    assert sorted(rig.requested().values()) == [1] * 20

    await first.kill()  # kill -9: the kernel lets go of the lock, no stale file to clean up
    second = await rig.start_bridge()
    assert (await snapshot(rig.db)).requests[0]["state"] == "done"
    assert await second.stop() == 0


def test_store_locked_is_a_store_error() -> None:
    """``python -m bot`` turns every ``StoreError`` into one line; a lock refusal is one too."""
    from bot.store import StoreError

    assert issubclass(StoreLocked, StoreError)
