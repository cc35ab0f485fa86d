"""Takeover edge cases across real ``python -m bot serve`` replicas on one PostgreSQL: an owner
killed between posting its root message and recording its ts, and an owner paused (SIGSTOP)
long enough to be taken over, then resumed (SIGCONT): one root message, never two, and nothing
sent or written to Slack by the old owner after the takeover.

Skipped without ``BRIDGE_TEST_POSTGRES_URL`` like every PostgreSQL test (``store_backends``).
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.crash_kit import CROWD
from tests.bot.replica_kit import Replica, ReplicaRig, replica_config, start_replica_rig
from tests.bot.store_backends import PostgresBackend
from tests.bot.test_replicas import TEXT, all_done, roots


@pytest.fixture
async def rig(tmp_path: Path, postgres_backend: PostgresBackend) -> AsyncIterator[ReplicaRig]:
    config = replica_config(CROWD, confirm_over=50)
    running = await start_replica_rig(tmp_path, postgres_backend.target, config, latency=0.2)
    try:
        yield running
    finally:
        await running.close()


async def owner_of(rig: ReplicaRig, replicas: list[Replica]) -> Replica:
    [lease] = await rig.when(
        "SELECT owner FROM send_leases", lambda rows: len(rows) == 1, what="a lease"
    )
    return next(r for r in replicas if r.replica_id == lease["owner"])


async def test_an_owner_killed_between_posting_its_root_and_recording_it_leaves_one_root(
    rig: ReplicaRig,
) -> None:
    replicas = await rig.start(2)
    slack = rig.slack.state
    slack.hold_reply("chat.postMessage")  # Slack posts the root; the owner never learns its ts
    assert await rig.slash(replicas[0], TEXT) == 200
    owner = await owner_of(rig, replicas)
    await slack.wait_for(lambda s: roots(rig), timeout=30)
    assert await owner.process.kill() == -signal.SIGKILL
    slack.release_reply("chat.postMessage")

    await all_done(rig)
    [root] = roots(rig)
    await slack.wait_for(lambda s: "sent 20/20" in root.text, timeout=30)
    [row] = await rig.fetch("SELECT report_ts FROM requests")
    assert row["report_ts"] == root.ts  # the new owner adopted the message already posted
    assert set(rig.requested().values()) == {1}
    assert len(roots(rig)) == 1
