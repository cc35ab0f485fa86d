"""``python -m bot send --test PERSON`` and ``python -m bot check --live`` in a real subprocess
against the emulators: real test messages, one line per way or canary, and the exit status."""

from __future__ import annotations

from pathlib import Path

from bridge_sandbox.emulators.suite import EmulatorSuite

from tests.bot.cli_kit import bridge_yaml, cli_env, emulators, run_cli

__all__ = ["bridge_yaml", "emulators"]

PROVING = """
people:
  alice:
    phone: "+254712345678"
    whatsapp: "+919812345678"
    reach: [{via: sms}, {via: india-wa, after: 2m}]
canaries:
  sms: {to: "+254700000099", every: 1d, announce_in: C0OPS0001}
  india-wa: {to: "+919812345670", every: 12h, announce_in: C0OPS0001}
"""


def with_proving(path: Path) -> Path:
    path.write_text(path.read_text(encoding="utf-8") + PROVING, encoding="utf-8")
    return path


async def test_send_test_sends_through_each_rule_and_prints_each_result(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    env = cli_env(BRIDGE_CONFIG=str(with_proving(bridge_yaml)))
    run = await run_cli("send", "--test", "alice", env=env)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("sent      sms             +2547•••••678")
    assert lines[1].startswith("sent      india-wa        +9198•••••678")
    assert [d.recipient for d in emulators.talkntalk.deliveries] == ["254712345678"]
    assert "No reply needed" in str(emulators.talkntalk.deliveries[0].payload)
    assert len(emulators.kaleyra.deliveries) == 1

    emulators.talkntalk.balance = 0
    failed = await run_cli("send", "--test", "alice", env=env)
    assert failed.code == 1
    assert "FAILED    sms" in failed.out
    assert "wallet balance too low" in failed.out
    unknown = await run_cli("send", "--test", "dave", env=env)
    assert unknown.code == 2
    assert "--test: there is nobody called 'dave' in people: alice" in unknown.err


async def test_check_live_runs_every_canary_once_and_fails_on_a_refusal(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    env = cli_env(BRIDGE_CONFIG=str(with_proving(bridge_yaml)))
    run = await run_cli("check", "--live", env=env)
    assert run.code == 0, run.err
    assert "Canaries (python -m bot check --live runs each once, for real)" in run.out
    assert "ok        sms" in run.out
    assert "ok        india-wa" in run.out
    assert [d.recipient for d in emulators.talkntalk.deliveries] == ["254700000099"]

    emulators.talkntalk.balance = 0
    failed = await run_cli("check", "--live", env=env)
    assert failed.code == 1
    assert "FAILED    sms             wallet balance too low" in failed.out
    assert "fix: Top up the wallet of the `tnt` account" in failed.out
    assert "ok        india-wa" in failed.out
    plain = await run_cli("check", env=env)
    assert plain.code == 0
    assert len(emulators.talkntalk.requests) == 2  # check without --live sends nothing
