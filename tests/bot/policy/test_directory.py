"""User-group membership: cached, answered at once when stale while a refresh runs behind, and a
plain message to the person when the app lacks the usergroups:read scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bridge_sandbox.slack import SlackState, start_slack_sandbox
from bridge_sandbox.slack.slack_api import SlackSandbox
from slack_sdk.web.async_client import AsyncWebClient

from bot.directory import MISSING_SCOPE, Directory, DirectoryError
from tests.bot.bridge_kit import BOB, start_bridge
from tests.bot.slack_steps import nothing_sent, slash

SRE = "S0SRE1234"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    running = await start_slack_sandbox()
    running.state.usergroups[SRE] = [BOB]
    try:
        yield running
    finally:
        await running.server.close()


def directory(sandbox: SlackSandbox, clock: Clock) -> Directory:
    client = AsyncWebClient(token=SlackState().bot_token, base_url=sandbox.api_url)
    return Directory(client, ttl=300, clock=clock)


def lookups(sandbox: SlackSandbox) -> int:
    return len(sandbox.state.calls_to("usergroups.users.list"))


async def test_membership_is_fetched_once_within_the_ttl(sandbox: SlackSandbox) -> None:
    clock = Clock()
    d = directory(sandbox, clock)
    assert await d.groups_of(BOB, [SRE]) == {SRE}
    clock.now += 299
    assert await d.groups_of("U0CAROL003", [SRE]) == frozenset()
    assert lookups(sandbox) == 1


async def test_past_the_ttl_the_old_answer_comes_at_once_and_a_refresh_runs_behind(
    sandbox: SlackSandbox,
) -> None:
    clock = Clock()
    d = directory(sandbox, clock)
    await d.members(SRE)
    sandbox.state.usergroups[SRE] = []  # Bob leaves the group
    clock.now += 301
    assert await d.members(SRE) == {BOB}  # no waiting on Slack: the cached members
    await d.settle()
    assert lookups(sandbox) == 2
    assert await d.members(SRE) == frozenset()  # the refresh has landed


async def test_far_past_the_ttl_the_lookup_waits_for_slack(sandbox: SlackSandbox) -> None:
    clock = Clock()
    d = directory(sandbox, clock)
    await d.members(SRE)
    sandbox.state.usergroups[SRE] = []
    clock.now += 4 * 300 + 1
    assert await d.members(SRE) == frozenset()


async def test_warm_fetches_every_group_up_front(sandbox: SlackSandbox) -> None:
    d = directory(sandbox, Clock())
    await d.warm([SRE, "S0GONE0000"])
    assert lookups(sandbox) == 2
    assert await d.members("S0GONE0000") == frozenset()  # a deleted group allows nobody
    assert lookups(sandbox) == 2


async def test_a_missing_scope_says_what_an_admin_must_do(sandbox: SlackSandbox) -> None:
    sandbox.state.missing_scopes.add("usergroups:read")
    with pytest.raises(DirectoryError) as caught:
        await directory(sandbox, Clock()).members(SRE)
    assert str(caught.value) == MISSING_SCOPE


async def test_without_the_scope_a_group_member_is_told_why_and_nothing_is_sent(
    tmp_path: Path,
) -> None:
    bridge = await start_bridge(tmp_path)
    try:
        bridge.slack.missing_scopes.add("usergroups:read")
        planner = bridge.runtime.service.planner
        assert planner.directory is not None
        await planner.directory.close()
        planner.directory = Directory(bridge.runtime.client)  # cold, as if the app just started
        reply = await slash(bridge, "oncall-sms Disk full", user=BOB)
        assert "You are not allowed to send to `oncall-sms`" in reply.text
        assert "lacks the usergroups:read scope" in reply.text
        assert "reinstall" in reply.text
        await nothing_sent(bridge)
    finally:
        await bridge.world.close()
