"""What a send writes to the log at LOG_LEVEL=DEBUG, in a real subprocess against the emulators.

README (Operations, "Logs") promises phone numbers partly masked in logs, and message text is the
sender's business: third-party libraries (asyncpg's notices, slack_sdk's and aiohttp's request
bodies) would print both at DEBUG, so they stay at WARNING whatever LOG_LEVEL says.
"""

from __future__ import annotations

import json
from pathlib import Path

from bridge_sandbox.emulators.suite import EmulatorSuite

from tests.bot.cli_kit import assert_all_sent, bridge_yaml, cli_env, emulators, run_cli

__all__ = ["bridge_yaml", "emulators"]

TEXT = "Secret-ish incident words 7Q2"
NUMBERS = ("254712345678", "254700000001", "254700000002", "254700000003")


async def test_a_debug_send_logs_no_whole_number_and_no_message_text(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    for fmt in ("text", "json"):
        env = cli_env(BRIDGE_CONFIG=str(bridge_yaml), LOG_LEVEL="DEBUG", LOG_FORMAT=fmt)
        run = await run_cli("send", "--channel", "team-sms", "--text", TEXT, env=env)
        assert_all_sent(run, 3)
        assert run.err.strip(), "DEBUG should still log the bridge's own lines"
        for number in NUMBERS:
            assert number not in run.err, (fmt, number)
        assert TEXT not in run.err
        if fmt == "json":
            loggers = {json.loads(line)["logger"] for line in run.err.splitlines()}
            assert not {name.split(".")[0] for name in loggers} & {"asyncpg", "slack_sdk"}
