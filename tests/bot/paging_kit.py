"""A bridge with people, a schedule and escalations, driven by a clock the test moves.

Why a settable clock: a page waits minutes between steps; the test moves time past a ``wait``
and runs the scheduler's tick itself (the background loop may tick too: moves are
compare-and-set, so both together still make each move once).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config import Settings
from tests.bot.bridge_kit import CONFIG, FAST, Bridge, start_bridge

PUBLIC = "https://bridge.example"
START = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)

PAGING = """
people:
  alice: {phone: "+254712345678", slack: U0ALICE001}
  bob:   {phone: "0798 765 432", slack: U0BOB00002, whatsapp: "+919812345678"}
  carol: {phone: "+254700000003"}

schedules:
  primary:
    timezone: Africa/Nairobi
    rotation: {start: "2026-11-02T09:00", every: 1w, people: [alice, bob, carol]}

escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {notify: [schedule:primary], via: [sms-adhoc], wait: 5m}
      - {notify: [bob], via: [sms-adhoc], wait: 10m}
      - {notify: [carol], via: [sms-adhoc], wait: 5m}
    repeat: 1
  wa-first:
    allowed_senders: [sre]
    steps:
      - {notify: [bob], via: [india-wa, sms-adhoc], wait: 10m}
    fallback_after: 2m
"""


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def start_paging(
    tmp_path: Path,
    clock: Clock,
    config: str = CONFIG,
    extra: str = "",
    *,
    adjust: Callable[[Settings], Settings] | None = None,
    **env: str,
) -> Bridge:
    """``extra`` goes after PAGING: more escalations, or more top-level sections; ``adjust``
    as for ``start_bridge``."""
    options = replace(FAST, clock=clock, page_tick=0.05)
    return await start_bridge(
        tmp_path,
        config_text=config + PAGING + extra,
        options=options,
        extra_env={"BRIDGE_PUBLIC_URL": PUBLIC, **env},
        adjust=adjust,
    )


def sms_texts(bridge: Bridge) -> list[tuple[str, str]]:
    """(recipient, text) of every message the TalkNTalk emulator accepted."""
    return [(d.recipient, json.dumps(d.payload)) for d in bridge.emulators.talkntalk.deliveries]


def root_of(bridge: Bridge, page_id: str) -> Any:
    for messages in bridge.slack.messages.values():
        for m in messages:
            if not m.is_reply and page_id in m.text:
                return m
    raise AssertionError(f"no root message for {page_id}")


async def wait_for_step(bridge: Bridge, page_id: str, step: int) -> None:
    """Wait until the page stands on ``step`` (from 0). A step's SMS leaves before its move is
    recorded as done, and the scheduler's own loop may be the one running it, so a test that
    saw the SMS waits for this before it reads the page's state."""
    for _ in range(500):
        page = await bridge.runtime.store.get_page(page_id)
        if page is not None and page.step == step:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"page {page_id} never stood on step {step + 1}")
