"""An ended page's line names each person once: its sender is often one of the escalation's
senders too ("<@alice> <@alice>, <!subteam^…>" read as a typo at 3 a.m.)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.paging.slack import state_line
from bot.store.pages_base import PageRecord
from tests.bot.bridge_kit import ALICE, BOB
from tests.bot.paging_kit import START, Clock, start_paging

ENDED = PageRecord(
    page_id="P1",
    escalation="db-outage",  # allowed_senders: [sre] = U0ALICE001 and usergroup S0SRE1234
    text="Nobody home",
    sender=ALICE,
    slack_channel="C0INCIDENT",
    root_ts="1.1",
    state="ended",
    round=1,
    step=2,
    next_at=None,
    version=7,
    created_at=START,
    acknowledged_by=None,
    acknowledged_at=None,
    ended_at=START,
)


async def test_an_ended_page_mentions_its_sender_once(tmp_path: Path) -> None:
    bridge = await start_paging(tmp_path, Clock())
    try:
        line = state_line(bridge.settings, ENDED)
        assert line.count(f"<@{ALICE}>") == 1, line
        assert "<!subteam^S0SRE1234>" in line  # the other senders are still told
        assert line.startswith(":x: *Ended unanswered* after 6 step(s). ")
        assert line.endswith(": nobody acknowledged.")

        by_bob = state_line(bridge.settings, replace(ENDED, sender=BOB))  # in sre by usergroup
        assert by_bob.count(f"<@{BOB}>") == 1, by_bob
        assert by_bob.count(f"<@{ALICE}>") == 1, by_bob
        nobody = state_line(bridge.settings, replace(ENDED, sender=None))
        assert "  " not in nobody, nobody
        assert nobody.count(f"<@{ALICE}>") == 1, nobody
    finally:
        await bridge.world.close()
