"""``python -m bot send`` exits once it has sent, on whichever Python runs the suite, with either
store (README "Command line").

Why: on Python 3.12+ ``asyncio.gather`` of futures already done finishes without yielding, and
the PostgreSQL pool's wait for its connections to come back spun on that forever after the
summary was printed (1 s on 3.11; killed after 40 s on 3.12 and 3.13). CI runs this file under
3.11, 3.12 and 3.13 (``.ci/run``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from bridge_sandbox.emulators.suite import EmulatorSuite

from tests.bot.cli_kit import assert_all_sent, bridge_yaml, cli_env, emulators, run_cli
from tests.bot.store_backends import Backend

__all__ = ["bridge_yaml", "emulators"]

# Generous: a start-up and a three-recipient send take about a second; the hang was forever.
EXIT_WITHIN = 30.0


async def test_send_exits_after_its_summary(
    bridge_yaml: Path, emulators: EmulatorSuite, backend: Backend
) -> None:
    env = cli_env(BRIDGE_CONFIG=str(bridge_yaml), BRIDGE_DB=backend.target)

    try:
        run = await run_cli(
            "send", "--channel", "team-sms", "--text", "disk full", env=env, deadline=EXIT_WITHIN
        )
    except TimeoutError:
        pytest.fail(f"python -m bot send ({backend.kind}) did not exit within {EXIT_WITHIN:.0f} s")

    assert_all_sent(run, count=3)
    assert len(emulators.talkntalk.deliveries) == 3
    assert "Traceback" not in run.err, f"Python {sys.version_info[:3]}: {run.err}"
