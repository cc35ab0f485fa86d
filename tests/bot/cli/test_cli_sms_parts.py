"""``python -m bot send`` counts SMS parts: it prints them, and refuses (exit 2) over the limit."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge_sandbox.emulators.suite import EmulatorSuite

from tests.bot.cli_kit import assert_all_sent, bridge_yaml, emulators, send

__all__ = ["bridge_yaml", "emulators"]


async def test_send_refuses_an_sms_over_the_part_limit_with_exit_2(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    plain, curly = await asyncio.gather(
        send(bridge_yaml, "--channel", "sms", "--text", "x" * 40_000),
        send(bridge_yaml, "--channel", "team-sms", "--text", "“Disk full” " + "x" * 400),
    )

    assert plain.code == 2, plain.out + plain.err
    assert "error: --text: This SMS to `sms` is 262 parts (GSM-7); the limit is 6." in plain.err
    assert curly.code == 2, curly.out + curly.err
    assert (
        "error: --text: This SMS to `team-sms` is 7 parts (UCS-2 because of '“' at position 1); "
        "the limit is 6. Shorten it or replace '“' with '\"' (and '”' likewise): it would then fit."
    ) in curly.err
    for run in (plain, curly):
        assert "Nothing was sent." in run.err
        assert run.outcome_lines == []
    assert emulators.talkntalk.requests == []


async def test_send_prints_the_parts_and_encoding(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    run = await send(bridge_yaml, "--channel", "sms", "--text", "Disk full – db-1 " + "x" * 60)

    assert_all_sent(run)
    assert "SMS: 2 parts, UCS-2 because of '–' at position 11, to each\n" in run.out
    [request] = emulators.talkntalk.requests
    assert request.body["message"].startswith("Disk full – db-1")
