"""``kill -9`` of a real bridge the moment alice's second contact rule is claimed (its send under
way, the timer not yet done), restarted at once: rule 2 is sent once, rule 3 still goes, and
nobody gets anything twice.

Why the kill is timed by the timer row: as in ``test_paging_crash``, watching the row from
outside (read-only) and killing the moment the rule is claimed lands inside the claim every
time, with no hook in the bridge. The clock is real here (a child process): the rules are
seconds apart.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot.crash_kit import ALICE, CrashRig, eventually, kill_when_claimed, start_rig

ALICE_PHONE = "254712345678"

RULES_CONFIG = f"""\
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
  alice:
    phone: "+{ALICE_PHONE}"
    reach:
      - {{via: sms-one}}
      - {{via: sms-two, after: 2s}}
      - {{via: sms-three, after: 4s}}

channels:
  sms-one: {{provider: tnt, service: sms, sender_id: RULEONE, allowed_senders: [sre],
            allow_adhoc: true}}
  sms-two: {{provider: tnt, service: sms, sender_id: RULETWO, allowed_senders: [sre],
            allow_adhoc: true}}
  sms-three: {{provider: tnt, service: sms, sender_id: RULETHREE, allowed_senders: [sre],
              allow_adhoc: true}}

escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {{notify: [alice], via: [sms-one], wait: 10m}}
"""


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[CrashRig]:
    running = await start_rig(tmp_path, latency=0)
    try:
        yield running
    finally:
        await running.close()


def rule_2_moment(rows: list[Any]) -> str | None:
    """Rule 2's timer is claimed and not yet done."""
    if rows and rows[0][0] is not None and rows[0][1] == 0:
        return "claimed"
    if rows and rows[0][1] == 1:
        return "missed"
    return None


def by_rule(rig: CrashRig) -> Counter[str]:
    """Requests the provider received per sender id (one per rule)."""
    return Counter(
        str(r.body.get("sender_id")) for r in rig.tnt.requests if isinstance(r.body, dict)
    )


async def test_kill_9_inside_a_rule_then_restart_sends_each_rule_once(rig: CrashRig) -> None:
    first = await rig.start_bridge(RULES_CONFIG)
    deadline = time.monotonic() + 20
    watch = asyncio.create_task(
        asyncio.to_thread(
            kill_when_claimed,
            rig.db,
            first.proc.pid,
            deadline,
            "SELECT claimed_until, done FROM page_timers WHERE rule = 1",
            rule_2_moment,
        )
    )
    assert await rig.slash("page db-outage DB primary is down") == 200
    assert await watch == "claimed"
    await first.proc.wait()
    await rig.start_bridge(RULES_CONFIG)
    # The dead process's claim lapses (5 s); rule 3 is due 4 s after the page.
    await eventually(lambda: by_rule(rig)["RULETHREE"], timeout=20, what="rule 3's SMS")
    await eventually(lambda: by_rule(rig)["RULETWO"], timeout=20, what="rule 2's SMS")
    await asyncio.sleep(1.0)  # anything sent twice would arrive with them
    assert by_rule(rig) == {"RULEONE": 1, "RULETWO": 1, "RULETHREE": 1}
