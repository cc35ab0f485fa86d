"""A provider that echoes the API key in every field of its errors never gets any piece of it into
Slack, the log, the send record's file or the terminal (issue 7, section 3).

The keys are random-looking (``tests/providers/leaks.py``) so that no ordinary word in a log
line counts as a piece of one. The emulators are told the same keys as the bridge's config.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bridge_sandbox.emulators.suite import EmulatorSuite

from tests.bot.bridge_kit import CONFIG, Bridge, start_bridge
from tests.bot.cli_kit import bridge_yaml, cli_env, run_cli
from tests.bot.dispatch_kit import emulators
from tests.bot.slack_steps import slash
from tests.providers.leaks import AK_KEY, KAL_KEY, TNT_KEY, assert_no_leak, echo_fault

__all__ = ["bridge_yaml", "emulators"]

LEAKY_CONFIG = (
    CONFIG.replace("${TALKNTALK_API_KEY}", "${LEAK_TNT_KEY}")
    .replace("${AUTOKONNECT_API_KEY}", "${LEAK_AK_KEY}")
    .replace("${KALEYRA_API_KEY}", "${LEAK_KAL_KEY}")
)


@pytest.fixture
async def leaky_bridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bridge]:
    """The test bridge with the random-looking keys, in its config and in the emulators."""
    for name, key in (
        ("LEAK_TNT_KEY", TNT_KEY),
        ("LEAK_AK_KEY", AK_KEY),
        ("LEAK_KAL_KEY", KAL_KEY),
    ):
        monkeypatch.setenv(name, key)
    running = await start_bridge(tmp_path, config_text=LEAKY_CONFIG)
    emulators = running.emulators
    emulators.talkntalk.api_key = TNT_KEY
    emulators.autokonnect.api_key = AK_KEY
    emulators.kaleyra.api_key = KAL_KEY
    try:
        yield running
    finally:
        await running.world.close()


def store_bytes(directory: Path) -> bytes:
    """Every file of the SQLite send record: the database, its WAL and shared memory."""
    return b"".join(path.read_bytes() for path in sorted(directory.glob("*.db*")))


SENDS = {
    "talkntalk": ("talkntalk", TNT_KEY, "oncall-sms Disk full on db-1"),
    "autokonnect": ("autokonnect", AK_KEY, "customers +254712345678 Your order shipped"),
    "kaleyra": ("kaleyra", KAL_KEY, "india-wa +919812345678 Your order shipped"),
}


@pytest.mark.parametrize("status", [400, 502])
@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
async def test_a_key_echoed_by_the_provider_reaches_no_slack_message_log_or_store(
    leaky_bridge: Bridge,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    send: tuple[str, str, str],
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator, key, text = send
    getattr(leaky_bridge.emulators, emulator).inject(echo_fault(key, status, times=10))

    await slash(leaky_bridge, text)  # waits for the bridge's answer to the sender
    await leaky_bridge.idle()

    threads = [m for m in leaky_bridge.channel_messages() if m.is_reply]
    assert threads, repr(leaky_bridge.slack.messages) + repr(leaky_bridge.slack.ephemerals)
    assert_no_leak(key, "what Slack was sent", repr(leaky_bridge.slack))
    assert_no_leak(key, "the log", caplog.text)
    assert_no_leak(key, "log records", repr([vars(r) for r in caplog.records]))
    assert_no_leak(key, "the send record", store_bytes(tmp_path))


async def test_a_key_echoed_by_the_provider_reaches_no_terminal_or_store(
    bridge_yaml: Path, emulators: EmulatorSuite, tmp_path: Path
) -> None:
    emulators.talkntalk.api_key = TNT_KEY
    emulators.talkntalk.inject(echo_fault(TNT_KEY, 400, times=3))
    db = tmp_path / "cli.db"
    env = cli_env(BRIDGE_CONFIG=str(bridge_yaml), LOG_LEVEL="DEBUG", BRIDGE_DB=str(db))
    env["TNT_KEY"] = TNT_KEY

    run = await run_cli("send", "--channel", "team-sms", "--text", "Disk full", env=env)

    assert run.code == 1, run.out + run.err
    assert len(run.outcome_lines) == 3
    assert_no_leak(TNT_KEY, "the terminal", run.out + run.err)
    assert_no_leak(TNT_KEY, "the send record", store_bytes(tmp_path))
