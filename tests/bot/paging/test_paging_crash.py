"""``kill -9`` of a real bridge the moment step 1's SMS reaches the provider, restarted at once:
step 2 still runs once, about ``wait`` after step 1, and nobody is paged twice.

Why the kill is timed by the page row: the black-box runs that found the bug killed the bridge
by hand, and one in 14 landed inside a move (claimed, not yet recorded as done), which left the
page claimed for 30 s. Watching the row from outside (read-only) and killing the moment step 1
is claimed lands there every time, with no hook in the bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.crash_kit import ALICE, CrashRig, eventually, kill_when_claimed, start_rig

ALICE_PHONE = "254712345678"
BOB_PHONE = "254798765432"
WAIT = 3  # seconds: step 1's wait

PAGE_CONFIG = f"""\
defaults:
  country: KE

providers:
  tnt:
    type: talkntalk
    api_key: ${{TALKNTALK_API_KEY}}
    base_url: ${{TNT_URL}}
    timeout_seconds: 10

senders:
  sre: [{ALICE}]

people:
  alice: {{phone: "+{ALICE_PHONE}"}}
  bob:   {{phone: "+{BOB_PHONE}"}}

channels:
  page-sms:
    provider: tnt
    service: sms
    allowed_senders: [sre]
    allow_adhoc: true

escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {{notify: [alice], via: [page-sms], wait: {WAIT}s}}
      - {{notify: [bob], via: [page-sms], wait: 1m}}
"""


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[CrashRig]:
    running = await start_rig(tmp_path, latency=0)
    try:
        yield running
    finally:
        await running.close()


def step_1_moment(rows: list[Any]) -> str | None:
    """Step 1's move is claimed and not yet done (version 1: created at 0, claimed 1,
    advanced 2)."""
    if rows and rows[0][0] == 1:
        return "claimed"
    if rows and rows[0][0] > 1:
        return "missed"
    return None


async def test_kill_9_inside_step_1_then_restart_runs_step_2_on_time_once(
    rig: CrashRig,
) -> None:
    first = await rig.start_bridge(PAGE_CONFIG)
    deadline = time.monotonic() + 15
    watch = asyncio.create_task(
        asyncio.to_thread(
            kill_when_claimed,
            rig.db,
            first.proc.pid,
            deadline,
            "SELECT version FROM pages",
            step_1_moment,
        )
    )
    typed = asyncio.create_task(rig.slash("page db-outage DB primary is down"))
    assert await watch == "claimed"
    # The kill may come before the command's (empty) HTTP answer has gone out.
    with contextlib.suppress(aiohttp.ServerDisconnectedError):
        assert await typed == 200
    await first.proc.wait()
    await rig.start_bridge(PAGE_CONFIG)
    # Step 2 is due WAIT seconds after step 1; the claim the dead process left used to hold
    # the page 30 s more. The deadline is generous for a loaded machine, far under that.
    await eventually(lambda: rig.requested()[BOB_PHONE], timeout=WAIT + 12, what="step 2's SMS")
    await asyncio.sleep(0.5)  # anything sent twice would arrive with it
    assert rig.requested() == {ALICE_PHONE: 1, BOB_PHONE: 1}
