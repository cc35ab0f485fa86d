"""Several real ``python -m bot serve`` replicas on one PostgreSQL: every promise holds across
them (README, "Several replicas"). Signed Slack requests go to different replicas; a replica is
killed for real (SIGKILL) mid-broadcast and another takes its send over.

Skipped without ``BRIDGE_TEST_POSTGRES_URL`` (one line says how to run them), failed if it is
set and unreachable, as every PostgreSQL test (``tests/bot/store_backends.py``).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bridge_sandbox.slack import payloads
from bridge_sandbox.slack.records import PostedMessage

from bot.slack import ids
from bot.store.base import TAKEN_OVER_REASON
from tests.bot.crash_kit import ALICE, CROWD, INCIDENTS, TERMINAL, eventually
from tests.bot.replica_kit import ReplicaRig, replica_config, start_replica_rig
from tests.bot.store_backends import PostgresBackend

TEXT = "crowd-sms Water main burst on Ngong Rd; avoid the area until 18:00"
NUMBERS = {n.lstrip("+") for n in CROWD}
STATUS_SQL = "SELECT address, status, reason FROM recipients ORDER BY request_id, idx"


@pytest.fixture
async def rig(tmp_path: Path, postgres_backend: PostgresBackend) -> AsyncIterator[ReplicaRig]:
    config = replica_config(CROWD, confirm_over=50)
    running = await start_replica_rig(tmp_path, postgres_backend.target, config, latency=0.2)
    try:
        yield running
    finally:
        await running.close()  # SIGKILLs every replica still running


def status_of(rows: list[dict[str, object]]) -> dict[str, str]:
    return {str(r["address"]).lstrip("+"): str(r["status"]) for r in rows}


def roots(rig: ReplicaRig) -> list[PostedMessage]:
    return [m for m in rig.slack.state.messages.get(INCIDENTS, []) if not m.is_reply]


async def all_done(rig: ReplicaRig, count: int = 1) -> None:
    await rig.when(
        "SELECT state, reported_at FROM requests",
        lambda rows: (
            len(rows) == count and all(r["state"] == "done" and r["reported_at"] for r in rows)
        ),
        what=f"{count} request(s) done and reported",
    )


async def test_kill_9_of_the_owner_mid_broadcast_another_replica_takes_over_and_finishes(
    rig: ReplicaRig,
) -> None:
    replicas = await rig.start(3)
    assert await rig.slash(replicas[1], TEXT) == 200
    [lease] = await rig.when(
        "SELECT owner, epoch FROM send_leases", lambda rows: len(rows) == 1, what="a lease"
    )
    owner = next(r for r in replicas if r.replica_id == lease["owner"])
    await eventually(lambda: len(rig.tnt.deliveries) >= 5, timeout=30, what="five deliveries")
    await rig.slack.state.wait_for(lambda s: roots(rig), timeout=30)
    assert await owner.process.kill() == -signal.SIGKILL
    crashed = status_of(await rig.fetch(STATUS_SQL))
    updates_at_kill = len(rig.slack.state.calls_to("chat.update"))
    assert "pending" in crashed.values()  # the kill came mid-send: work was left

    await all_done(rig)
    survivors = [r for r in replicas if r is not owner]
    takeovers = {
        r.replica_id: await rig.metric(r, "bridge_lease_takeovers_total") for r in survivors
    }
    assert sorted(takeovers.values()) == [0.0, 1.0], takeovers  # exactly one replica took over
    rows = await rig.fetch(STATUS_SQL)
    final = status_of(rows)

    # Exactly once: never attempted -> sent once; in flight -> unknown, never tried again.
    requested, delivered = rig.requested(), rig.delivered()
    assert set(final) == NUMBERS
    assert all(s in TERMINAL for s in final.values()), final
    for number, before in crashed.items():
        if before == "pending":
            assert (final[number], requested[number]) == ("sent", 1), number
        elif before == "in_flight":
            assert final[number] == "unknown"
            assert requested[number] <= 1, "an unknown recipient is never tried again"
        else:
            assert final[number] == before
    for number, outcome in final.items():
        assert delivered[number] <= 1, number
        if outcome == "sent":
            assert delivered[number] == 1
    for row in rows:
        if row["status"] == "unknown":
            assert row["reason"] == TAKEN_OVER_REASON  # not "the bridge restarted"

    # One root message, taken over in place (same ts) and brought to its final counts.
    [root] = roots(rig)
    counts = Counter(final.values())
    await rig.slack.state.wait_for(lambda s: f"sent {counts['sent']}/20" in root.text, timeout=30)
    after = rig.slack.state.calls_to("chat.update")[updates_at_kill:]
    assert after
    assert all(call.args["ts"] == root.ts for call in after)
    assert all(call.args["channel"] == INCIDENTS for call in after)
    if counts["unknown"]:
        reply = await rig.slack.state.wait_for_message(INCIDENTS, f"{counts['unknown']} unknown")
        assert reply.thread_ts == root.ts
    assert len(roots(rig)) == 1


async def test_a_slack_retry_of_a_command_on_another_replica_sends_once(rig: ReplicaRig) -> None:
    first, second = await rig.start(2)
    body = payloads.slash_command(rig.slack.state, "/send", TEXT, user=ALICE, channel=INCIDENTS)
    statuses = await asyncio.gather(rig.post(first, body), rig.post(second, body, retry_num=1))
    assert list(statuses) == [200, 200]
    await all_done(rig)
    assert set(rig.requested().values()) == {1}
    assert set(rig.requested()) == NUMBERS
    assert len(roots(rig)) == 1


async def test_a_double_clicked_retry_on_two_replicas_sends_once(rig: ReplicaRig) -> None:
    first, second = await rig.start(2)
    rig.tnt.balance = 15  # the last five find no credit: failed, listed with a Retry button
    assert await rig.slash(first, TEXT) == 200
    await all_done(rig)
    message = await rig.slack.state.wait_for_message(INCIDENTS, "5 failed", timeout=30)
    assert ids.RETRY_FAILED in repr(message.blocks)
    rig.tnt.balance = 1000
    clicks = [
        payloads.block_actions_message(
            rig.slack.state, message.ts, ids.RETRY_FAILED, channel=INCIDENTS, user=ALICE
        )
        for _ in range(2)
    ]
    assert list(await asyncio.gather(rig.post(first, clicks[0]), rig.post(second, clicks[1]))) == [
        200,
        200,
    ]
    await all_done(rig, count=2)
    assert set(rig.delivered()) == NUMBERS
    assert set(rig.delivered().values()) == {1}
    retried = await rig.fetch("SELECT request_id FROM requests WHERE parent_request_id IS NOT NULL")
    assert len(retried) == 1
