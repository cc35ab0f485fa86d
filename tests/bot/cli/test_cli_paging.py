"""``python -m bot page | ack | oncall`` in real subprocesses against the emulators.

The page's hand-off is tested as it happens in production: the terminal records the page and
sends step 1, then a bridge started on the same ``BRIDGE_DB`` (after the command exited) finds the
page due and runs step 2, on a clock the test sets just past the step's wait.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge_sandbox.world import KEYS, world_env

from tests.bot.bridge_kit import ALICE, Bridge
from tests.bot.cli_kit import Run, run_cli
from tests.bot.paging_kit import PUBLIC, Clock, sms_texts, start_paging, wait_for_step
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

BOB_PHONE = "254798765432"  # as the TalkNTalk emulator records it (no +)


def cli_env(bridge: Bridge, db: Path) -> dict[str, str]:
    """The environment `serve` would have beside this bridge, on the store ``db``."""
    env = world_env(bridge.emulators, bridge.world.slack, db)
    return {
        **env,
        "PATH": os.environ.get("PATH", ""),
        "BRIDGE_CONFIG": str(bridge.settings.source),
        "BRIDGE_PUBLIC_URL": PUBLIC,
    }


async def cli(bridge: Bridge, db: Path, *args: str) -> Run:
    run = await run_cli(*args, env=cli_env(bridge, db), deadline=30)
    for key in KEYS.values():
        assert key not in run.out + run.err
    return run


def page_id_of(run: Run) -> str:
    found = re.search(r"^Page (P[0-9A-Z]{8}): escalation db-outage, 3 step\(s\)$", run.out, re.M)
    assert found is not None, run.out + run.err
    return found.group(1)


async def test_page_from_the_terminal_sends_step_1_and_a_running_bridge_escalates_it(
    tmp_path: Path,
) -> None:
    for part in ("a", "b"):
        (tmp_path / part).mkdir()
    db = tmp_path / "pages.db"
    first = await start_paging(tmp_path / "a", Clock())
    try:
        run = await cli(first, db, "page", "db-outage", "Disk", "full", "on", "db-1")
        assert run.code == 0, run.out + run.err
        page_id = page_id_of(run)
        [step_1] = [line for line in run.out.splitlines() if line.startswith("  step 1")]
        assert step_1.split()[-3:] == ["by", "sms-adhoc", "sent"], run.out
        assert "a running bridge (`serve` or `socket` on this BRIDGE_DB)" in run.out
        assert f"python -m bot ack {page_id}" in run.out
        [(to, body)] = sms_texts(first)
        assert "Disk full on db-1" in body
        assert f"/send ack {page_id}" in body
        assert f"{PUBLIC}/ack/" in body  # the same acknowledge link as a Slack page's
        assert f"page {page_id} started: escalation db-outage" in run.err  # the log line
        assert to not in run.err  # no whole number in the log
    finally:
        await first.world.close()

    clock = Clock(datetime.now(UTC) + timedelta(minutes=6))
    second = await start_paging(tmp_path / "b", clock, BRIDGE_DB=str(db))
    try:
        await second.runtime.paging.tick()
        await wait_until(lambda: sms_texts(second), what="step 2 run by the bridge")
        assert [to for to, _ in sms_texts(second)] == [BOB_PHONE]
        await wait_for_step(second, page_id, 1)
        status = await slash(second, f"status {page_id}", user=ALICE)  # a sender may see it
        assert "Started by the bridge's terminal" in status.text
        assert "Step 2 of 3 · waiting for an acknowledgement" in status.text
        await second.idle()
    finally:
        await second.world.close()

    acked, again, unknown = [
        await cli(second, db, "ack", page_id.lower()),
        await cli(second, db, "ack", page_id),
        await cli(second, db, "ack", "PZZZZZZZZ"),
    ]
    assert acked.code == 0, acked.out + acked.err
    assert f"Acknowledged page {page_id} (db-outage): no later step runs." in acked.out
    assert re.search(rf"page {page_id} acknowledged by \S+ \(terminal\) after \d+s", acked.err)
    assert again.code == 1
    assert f"Page {page_id} was already acknowledged by " in again.out
    assert "(terminal)" in again.out
    assert unknown.code == 2
    assert "error: there is no page PZZZZZZZZ" in unknown.err


async def test_page_refuses_what_slack_refuses_and_sends_nothing(tmp_path: Path) -> None:
    bridge = await start_paging(tmp_path, Clock())
    db = tmp_path / "pages.db"
    try:
        # One after another: a SQLite send record belongs to one process at a time.
        unknown = await cli(bridge, db, "page", "nope", "Disk", "full")
        empty = await cli(bridge, db, "page", "db-outage", "   ")
        bare = await cli(bridge, db, "page", "db-outage")
    finally:
        await bridge.world.close()
    assert unknown.code == 2
    assert "error: There is no escalation `nope`. Escalations: db-outage, wa-first." in unknown.err
    assert "No page was started." in unknown.err
    assert empty.code == 2
    assert "Write what is happening" in empty.err
    assert bare.code == 2  # argparse: the text is required
    assert "the following arguments are required: text" in bare.err
    assert sms_texts(bridge) == []


async def test_oncall_shows_schedules_and_whom_an_escalation_would_page(tmp_path: Path) -> None:
    bridge = await start_paging(tmp_path, Clock())
    db = tmp_path / "pages.db"
    try:
        every, escalation, nope = await asyncio.gather(
            cli(bridge, db, "oncall"),
            cli(bridge, db, "oncall", "db-outage"),
            cli(bridge, db, "oncall", "nope"),
        )
    finally:
        await bridge.world.close()
    assert every.code == 0, every.err
    assert re.search(
        r"^primary: (alice|bob|carol) until \w{3} \d\d \w{3} \d\d:\d\d EAT$", every.out, re.M
    )
    assert re.search(r"^    next: (alice|bob|carol) from ", every.out, re.M)
    assert escalation.code == 0, escalation.err
    lines = escalation.out.splitlines()
    assert lines[0] == "db-outage: 3 step(s), then again 1 time(s), if started now:"
    assert re.fullmatch(r"  step 1: (alice|bob|carol) by sms-adhoc, then wait 5m", lines[1])
    assert lines[2:] == [
        "  step 2: bob by sms-adhoc, then wait 10m",
        "  step 3: carol by sms-adhoc, then wait 5m",
    ]
    assert nope.code == 2
    assert "error: there is no schedule or escalation 'nope'. Schedules: primary." in nope.err


async def test_page_whose_step_1_reached_nobody_exits_1_and_still_escalates(
    tmp_path: Path,
) -> None:
    bridge = await start_paging(tmp_path, Clock())
    db = tmp_path / "pages.db"
    try:
        bridge.emulators.talkntalk.inject(status=400)  # the one SMS of step 1 is refused
        run = await cli(bridge, db, "page", "db-outage", "Disk", "full")
    finally:
        await bridge.world.close()
    assert run.code == 1, run.out + run.err
    [step_1] = [line for line in run.out.splitlines() if line.startswith("  step 1")]
    assert step_1.split()[-1] == "failed"
    assert "Unless someone acknowledges by " in run.out  # the page stays active: it escalates
