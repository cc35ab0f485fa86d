"""``kill -9`` of a running bridge in the middle of a send, then the same command started again.

README's opening and Operations ("The send record"): a message is never sent twice because a worker
restarted; nothing a sender was told was sent is lost. The bridge runs as a real child process
(``python -m bot serve``) so the crash is a real SIGKILL: no cleanup, no flush. Slack (the sandbox)
and TalkNTalk (the emulator, slowed to 0.2 s a request, with the account's ``max_concurrency: 2``)
run in the test process and see both lives of the bridge.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.slack.records import PostedMessage

from bot.slack import ids
from bot.store.base import RESTARTED_REASON
from tests.bot.crash_kit import (
    CROWD,
    INCIDENTS,
    TERMINAL,
    CrashRig,
    Snapshot,
    eventually,
    snapshot,
    snapshot_when,
    start_rig,
)
from tests.clocks import SignalledSleep

TEXT = "crowd-sms Water main burst on Ngong Rd; avoid the area until 18:00"
NUMBERS = {n.lstrip("+") for n in CROWD}


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[CrashRig]:
    running = await start_rig(tmp_path)
    try:
        yield running
    finally:
        await running.close()  # SIGKILLs any child still running


async def started_send(rig: CrashRig) -> str:
    """Type the slash command; the id of the request the bridge recorded for it."""
    assert await rig.slash(TEXT) == 200
    for _ in range(250):
        snap = await snapshot(rig.db)
        if snap.requests:
            return str(snap.requests[0]["request_id"])
        await asyncio.sleep(0.02)
    raise TimeoutError("the bridge recorded no request")


async def finished(rig: CrashRig, request_id: str) -> Snapshot:
    for _ in range(500):
        snap = await snapshot(rig.db)
        if snap.requests and snap.requests[0]["state"] == "done":
            return snap
        await asyncio.sleep(0.02)
    raise TimeoutError(f"request {request_id} not done after the restart")


def root_of(rig: CrashRig) -> PostedMessage:
    roots = [m for m in rig.slack.state.messages.get(INCIDENTS, []) if not m.is_reply]
    assert len(roots) == 1, "the restarted bridge must update the root message, not post another"
    return roots[0]


def assert_exactly_once(rig: CrashRig, snap: Snapshot, crashed: Snapshot) -> None:
    """The promises, per recipient, whatever moment the kill hit (``crashed``: the send record
    as the SIGKILL left it, read before the restart)."""
    status = snap.status()
    delivered, requested = rig.delivered(), rig.requested()
    assert set(status) == NUMBERS
    assert all(s in TERMINAL for s in status.values()), status  # nobody left pending/in flight
    for number, outcome in status.items():
        if outcome == "sent":
            assert delivered[number] == 1, (number, outcome, delivered[number])
        elif outcome == "unknown":
            assert delivered[number] <= 1, (number, outcome, delivered[number])
            assert requested[number] <= 1, "an unknown recipient must never be tried again"
        else:
            raise AssertionError(f"{number} ended {outcome}; no fault was injected for it")
    left = crashed.status()
    for number, before in left.items():
        if before == "pending":  # never attempted: the restarted bridge sent it, once
            assert status[number] == "sent"
            assert requested[number] == 1
        elif before == "in_flight":  # may have gone out: unknown, never tried again
            assert status[number] == "unknown"
        else:  # an outcome recorded before the crash stands
            assert status[number] == before
    assert max(delivered.values()) == 1


async def assert_reported(rig: CrashRig, snap: Snapshot, updates_before_kill: int) -> None:
    """One root message, brought to its final counts by the restarted bridge (chat.update on the
    same ts), and the unknown recipients listed in its thread."""
    counts = {s: sum(1 for v in snap.status().values() if v == s) for s in TERMINAL}
    root = root_of(rig)
    tally = f"sent {counts['sent']}/20"
    await rig.slack.state.wait_for(lambda s: tally in root.text, timeout=5)
    after_restart = rig.slack.state.calls_to("chat.update")[updates_before_kill:]
    assert after_restart
    assert all(call.args["ts"] == root.ts for call in after_restart)
    assert f"failed {counts['failed']}" in root.text
    if counts["unknown"]:
        assert f"unknown {counts['unknown']}" in root.text
        reply = await rig.slack.state.wait_for_message(INCIDENTS, f"{counts['unknown']} unknown")
        assert reply.thread_ts == root.ts
        assert ids.RETRY_UNKNOWN in repr(reply.blocks)
        assert RESTARTED_REASON in repr(reply.blocks)
    else:
        assert "unknown" not in root.text


async def test_kill_9_with_two_requests_in_flight_sends_the_rest_once_after_restart(
    rig: CrashRig,
) -> None:
    tnt = rig.tnt
    # The first five requests go through; the sixth reaches the phone and then its answer never
    # comes, the seventh is never processed: both hold the account's two slots at the kill.
    tnt.inject(Fault(times=5))
    tnt.inject(Fault(hang=True, process=True))
    tnt.inject(Fault(hang=True))
    first = await rig.start_bridge()
    request_id = await started_send(rig)
    await eventually(lambda: len(tnt.requests) >= 7, what="two requests hanging at the provider")
    await snapshot_when(
        rig.db, lambda s: Counter(s.status().values())["sent"] == 5, what="five sent, recorded"
    )
    updates_before_kill = len(rig.slack.state.calls_to("chat.update"))

    assert await first.kill() == -signal.SIGKILL
    crashed = await snapshot(rig.db)
    assert sorted(crashed.status().values()) == ["in_flight"] * 2 + ["pending"] * 13 + ["sent"] * 5
    await rig.start_bridge()  # the same command, the same BRIDGE_DB
    snap = await finished(rig, request_id)

    assert_exactly_once(rig, snap, crashed)
    outcomes = sorted(snap.status().values())
    assert outcomes == ["sent"] * 18 + ["unknown"] * 2
    unknown = [n for n, s in snap.status().items() if s == "unknown"]
    # One of them reached the phone before the kill, the other never did; neither is re-sent.
    assert sorted(rig.delivered()[n] for n in unknown) == [0, 1]
    for row in snap.recipients:
        if row["status"] == "unknown":
            assert row["reason"] == RESTARTED_REASON
    await assert_reported(rig, snap, updates_before_kill)


async def test_kill_9_at_an_arbitrary_moment_never_sends_twice_and_loses_nobody(
    rig: CrashRig,
) -> None:
    first = await rig.start_bridge()
    request_id = await started_send(rig)
    await eventually(lambda: len(rig.tnt.deliveries) >= 5, what="five deliveries")
    updates_before_kill = len(rig.slack.state.calls_to("chat.update"))

    assert await first.kill() == -signal.SIGKILL
    crashed = await snapshot(rig.db)
    assert "pending" in crashed.status().values()  # the kill came mid-send: work was left
    second = await rig.start_bridge()
    snap = await finished(rig, request_id)

    assert_exactly_once(rig, snap, crashed)
    await assert_reported(rig, snap, updates_before_kill)
    assert await second.stop() == 0  # and this one stops cleanly on SIGTERM


async def test_kill_9_while_the_failure_list_is_posted_posts_it_after_restart(
    rig: CrashRig,
) -> None:
    rig.tnt.balance = 15  # the last five find no credit: 402, failed
    first = await rig.start_bridge()
    request_id = await started_send(rig)
    await rig.slack.state.wait_for(lambda s: s.calls_to("chat.postMessage"))  # the root is up
    held = SignalledSleep()
    rig.slack.state.sleep = held
    rig.slack.state.set_latency("chat.postMessage", 10)  # the failure list will hang
    snap = await finished(rig, request_id)
    assert sorted(snap.status().values()) == ["failed"] * 5 + ["sent"] * 15
    await asyncio.wait_for(held.waiting.wait(), 10)  # the bridge waits on chat.postMessage
    assert await first.kill() == -signal.SIGKILL
    rig.slack.state.set_latency("chat.postMessage", 0)

    await rig.start_bridge()
    reply = await rig.slack.state.wait_for_message(INCIDENTS, "5 failed", timeout=15)
    assert reply.thread_ts == root_of(rig).ts
    assert max(rig.delivered().values()) == 1
