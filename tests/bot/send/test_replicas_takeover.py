"""Takeover edge cases across real ``python -m bot serve`` replicas on one PostgreSQL: an owner
killed between posting its root message and recording its ts, and an owner paused (SIGSTOP)
long enough to be taken over, then resumed (SIGCONT): one root message, never two, and nothing
sent or written to Slack by the old owner after the takeover.

Skipped without ``BRIDGE_TEST_POSTGRES_URL`` like every PostgreSQL test (``store_backends``).
"""

from __future__ import annotations

import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.crash_kit import CROWD, eventually
from tests.bot.replica_kit import Replica, ReplicaRig, replica_config, start_replica_rig
from tests.bot.send.test_replicas import TEXT, all_done, roots
from tests.bot.store_backends import PostgresBackend


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


def progress(text: str) -> int:
    """The N of "sent N/20" in a root message's text (how far the send had got)."""
    match = re.search(r"sent (\d+)/20", text)
    return int(match.group(1)) if match else -1


async def test_an_owner_paused_past_its_lease_and_resumed_sends_and_reports_nothing_more(
    rig: ReplicaRig,
) -> None:
    replicas = await rig.start(2)
    assert await rig.slash(replicas[0], TEXT) == 200
    owner = await owner_of(rig, replicas)
    await eventually(lambda: len(rig.tnt.deliveries) >= 4, timeout=30, what="four deliveries")
    owner.process.proc.send_signal(signal.SIGSTOP)
    try:
        await rig.when(
            "SELECT owner, epoch FROM send_leases",
            lambda rows: bool(rows) and rows[0]["owner"] != owner.replica_id,
            what="the other replica's takeover",
        )
    finally:
        owner.process.proc.send_signal(signal.SIGCONT)
    await all_done(rig)
    [root] = roots(rig)
    await rig.slack.state.wait_for(lambda s: "20/20" in root.text or "unknown" in root.text)
    await eventually(
        lambda: "lost the lease" in owner.process.tail() or "taken over" in owner.process.tail(),
        timeout=30,
        what="the old owner logging that it lost the send",
    )
    # Every recipient received at most once; the root's progress never goes backwards (a stale
    # update from the old owner after the takeover would show fewer sent than before).
    assert set(rig.delivered().values()) == {1}
    shown = [progress(str(c.args.get("text"))) for c in rig.slack.state.calls_to("chat.update")]
    assert shown == sorted(shown), shown
    assert len(roots(rig)) == 1
