"""A provider reply that cannot be read, or an adapter that breaks, never halts a send.

Issue 7, section 3: one undecodable reply used to leave a recipient in flight, the rest pending
and the request at ``sending`` (the CLI died with a traceback). Now every recipient gets an
outcome, the request ends, and ``python -m bot send`` exits 1 with plain lines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.emulators.suite import EmulatorSuite

from bot.accounts import Account, AccountLimiter
from bot.dispatch import Dispatcher
from providers.base import Message, OutcomeStatus, Recipient, Route, SendResult
from providers.talkntalk import TalkNTalk
from tests.bot.cli_kit import bridge_yaml, cli_env, run_cli
from tests.bot.crash_kit import read_db
from tests.bot.dispatch_kit import (
    FAST,
    SMS,
    Sightings,
    assert_one_outcome_each,
    emulators,
    numbers,
    plan,
    tnt_config,
)

__all__ = ["bridge_yaml", "emulators"]

TEAM = ["+254700000001", "+254700000002", "+254700000003"]
FAULTS = {
    "200 not utf-8": Fault(process=True, raw=b'{"id": "\xff\xfe"}', status=201),
    "html 502 charset=utf-8": Fault(
        raw=b"<html><body><h1>502 Bad Gateway \xe9\xff</h1></body></html>",
        status=502,
        content_type="text/html; charset=utf-8",
    ),
    "huge 200": Fault(process=True, raw=b" " * 65536, repeat=64, status=201),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_cli_send_reports_every_recipient_when_a_reply_cannot_be_read(
    fault: Fault, bridge_yaml: Path, emulators: EmulatorSuite, tmp_path: Path
) -> None:
    emulators.talkntalk.inject(fault)  # the first of three requests
    db = tmp_path / "send.db"
    env = cli_env(BRIDGE_CONFIG=str(bridge_yaml), LOG_LEVEL="DEBUG", BRIDGE_DB=str(db))

    run = await run_cli("send", "--channel", "team-sms", "--text", "Disk full", env=env)

    assert run.code == 1, run.out + run.err
    assert "Traceback" not in run.out + run.err
    assert len(run.outcome_lines) == 3, run.out
    assert sum(line.startswith("UNKNOWN ") for line in run.outcome_lines) == 1, run.out
    assert sum(line.startswith("sent ") for line in run.outcome_lines) == 2, run.out
    snap = await asyncio.to_thread(read_db, db)
    assert [r["state"] for r in snap.requests] == ["done"]
    assert sorted(r["status"] for r in snap.recipients) == ["sent", "sent", "unknown"]


class BreaksAfterAnswer(TalkNTalk):
    """A TalkNTalk adapter with a bug that strikes after the provider took the message."""

    async def send(
        self, route: Route, message: Message, recipients: Sequence[Recipient]
    ) -> SendResult:
        result = await super().send(route, message, recipients)
        if recipients[0].address == "+254700000001":
            raise KeyError("a bug in the adapter")
        return result


async def test_an_adapter_that_raises_gives_unknown_for_its_batch_and_the_send_goes_on(
    emulators: EmulatorSuite,
) -> None:
    config = tnt_config(emulators.url("talkntalk"))
    recorder = Sightings(emulators.talkntalk)
    async with aiohttp.ClientSession() as session:
        account = Account(
            "tnt", BreaksAfterAnswer(config, session), AccountLimiter(None), asyncio.Semaphore(4)
        )
        dispatcher = Dispatcher({"tnt": account}, recorder=recorder, retry=FAST)
        the_plan = plan("tnt", SMS, numbers(3, start=1))

        outcomes = await dispatcher.run(the_plan)

    assert_one_outcome_each(the_plan, outcomes)
    status: dict[str, Any] = {o.recipient.address: o.status for o in outcomes}
    assert status == {
        "+254700000001": OutcomeStatus.UNKNOWN,
        "+254700000002": OutcomeStatus.SENT,
        "+254700000003": OutcomeStatus.SENT,
    }
    broken = next(o for o in outcomes if o.status is OutcomeStatus.UNKNOWN)
    assert broken.reason
    assert "may have gone out" in broken.reason
    assert "a bug in the adapter" not in broken.reason  # internal words stay in the log
    assert recorder.recorded[broken.recipient.ref].status is OutcomeStatus.UNKNOWN
    assert [attempt for attempt, _ in recorder.started] == [1, 1, 1]  # recorded, never retried
    assert len(emulators.talkntalk.deliveries) == 3  # the broken call did go out
