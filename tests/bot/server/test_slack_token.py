"""SLACK_BOT_TOKEN is checked at start-up (issue 15 item 12): a token of the wrong kind, or one
Slack refuses, stops the start with one line naming the variable and the fix (never the token);
a Slack that cannot be reached does not stop it, but the replica is not ready until auth.test
answers, asked again in the background with a doubling wait.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from bridge_sandbox.emulators.common import serve

from bot.server.env import EnvError, read_env
from bot.server.slack_auth import SlackCheck, SlackTokenRefused
from tests.bot.bridge_kit import FAST
from tests.bot.crash_kit import CRASH_CONFIG, REPO, start_rig
from tests.bot.probe_kit import assemble, probe
from tests.clocks import HeldClock, VirtualClock, wait_until


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("xapp-1-A0CHATOPS1-0000000000-sandbox", "an app-level token"),
        ("xoxp-1111-2222-personal", "a user token"),
        ("sandbox-0000000000-token", "not a bot token"),
    ],
)
def test_a_token_of_another_kind_is_refused_before_any_call(token: str, kind: str) -> None:
    env = read_env({"SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": "s"})
    with pytest.raises(EnvError) as refused:
        env.require_http()
    message = str(refused.value)
    assert message.startswith(f"SLACK_BOT_TOKEN is {kind}")
    assert "OAuth & Permissions" in message
    assert token not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("token", "answer", "says"),
    [
        ("xoxb-not-this-workspaces", None, "Slack refused SLACK_BOT_TOKEN (invalid_auth)"),
        ("xoxb-gone", "account_inactive", "Slack refused SLACK_BOT_TOKEN (account_inactive)"),
        ("xoxb-revoked", "token_revoked", "Slack refused SLACK_BOT_TOKEN (token_revoked)"),
        ("xoxb-a-person", "user", "Slack says SLACK_BOT_TOKEN is not a bot token"),
    ],
)
async def test_a_token_slack_refuses_stops_the_start(
    tmp_path: Path, token: str, answer: str | None, says: str
) -> None:
    parts = await assemble(tmp_path, {"SLACK_BOT_TOKEN": token})
    if answer == "user":
        parts.slack.state.user_tokens.add(token)
    elif answer is not None:
        parts.slack.state.token_errors[token] = answer
    try:
        with pytest.raises(SlackTokenRefused) as refused:
            await serve(parts.app())
        message = str(refused.value)
        assert message.startswith(says)
        assert "OAuth & Permissions" in message
        assert token not in message
        assert "\n" not in message
        assert [c.method for c in parts.slack.state.calls] == ["auth.test"]  # nothing else ran
    finally:
        await parts.close()


async def test_an_unreachable_slack_starts_not_ready_until_auth_test_answers(
    tmp_path: Path,
) -> None:
    parts = await assemble(tmp_path)
    clock = HeldClock()
    parts.slack.state.fail_next("auth.test", "service_unavailable", status=503, retry_after=None)
    server = await serve(parts.app(replace(FAST, slack_check=SlackCheck(sleep=clock.sleep))))
    try:
        status, body, _ = await probe(server.url, "/readyz")
        assert (status, body["checks"]["slack"]) == (503, "unreachable")
        assert (await probe(server.url, "/livez"))[0] == 200
        await wait_until(lambda: clock.sleeps == [1.0], what="a retry waiting")
        clock.release()
        await wait_until(lambda: len(parts.slack.state.calls_to("auth.test")) == 2)
        status, body, _ = await probe(server.url, "/readyz")
        assert (status, body["checks"]["slack"]) == (200, "ok")
    finally:
        await server.close()
        await parts.close()


async def test_the_retries_wait_longer_each_time_up_to_a_cap(tmp_path: Path) -> None:
    parts = await assemble(tmp_path)
    clock = VirtualClock()
    check = SlackCheck(retry_first=1.0, retry_cap=3.0, sleep=clock.sleep)
    parts.slack.state.fail_next(
        "auth.test", "internal_error", status=500, retry_after=None, times=5
    )
    server = await serve(parts.app(replace(FAST, slack_check=check)))
    try:
        await wait_until(lambda: len(parts.slack.state.calls_to("auth.test")) == 6)
        status, _, _ = await probe(server.url, "/readyz")
        assert status == 200
        assert clock.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]
    finally:
        await server.close()
        await parts.close()


async def test_serve_with_a_refused_token_exits_with_one_line(tmp_path: Path) -> None:
    """End to end: ``python -m bot serve`` against the Slack stand-in, a token it does not know."""
    rig = await start_rig(tmp_path)
    config = tmp_path / "bridge.yaml"
    config.write_text(CRASH_CONFIG, encoding="utf-8")
    token = "xoxb-9999999999-not-this-app"
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "serve",
            env={**rig.env(), "SLACK_BOT_TOKEN": token}, cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        await rig.close()
    assert proc.returncode == 1
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: Slack refused SLACK_BOT_TOKEN (invalid_auth)")
    assert token not in (out + err).decode()
