"""A whole bridge on loopback for end-to-end tests: sandbox Slack, the three provider emulators, a
temp config and store, and the bridge's own aiohttp server — talked to with signed requests.

Use the ``bridge`` fixture (async): ``bridge.user.slash("/send", "oncall-sms Disk full")``, then
``await bridge.idle()`` and read ``bridge.slack`` (what Slack saw) and ``bridge.emulators``
(what the providers received).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from bridge_sandbox.emulators.suite import EmulatorSuite
from bridge_sandbox.slack import PostedMessage, SlackState, SlackUser
from bridge_sandbox.world import KEYS, SANDBOX_CONFIG, SIGNING_SECRET, World, start_world

from bot.dispatch import RetryPolicy
from bot.server.runtime import Runtime, RuntimeOptions
from config import Settings

__all__ = ["KEYS", "SIGNING_SECRET"]

ALICE = "U0ALICE001"  # in sre (by id)
BOB = "U0BOB00002"  # in sre through the usergroup S0SRE1234
CAROL = "U0CAROL003"  # not allowed anywhere
INCIDENTS = "C0INCIDENT"
ELSEWHERE = "C0RANDOM01"

CONFIG = SANDBOX_CONFIG


@dataclass
class Bridge:
    """The world plus the shortcuts tests use most."""

    world: World
    user: SlackUser

    @property
    def slack(self) -> SlackState:
        return self.world.slack.state

    @property
    def emulators(self) -> EmulatorSuite:
        return self.world.emulators

    @property
    def settings(self) -> Settings:
        return self.world.settings

    @property
    def runtime(self) -> Runtime:
        return self.world.runtime

    def as_user(self, user: str, channel: str = INCIDENTS) -> SlackUser:
        return self.world.user(user, channel)

    async def idle(self) -> None:
        await self.world.idle()

    def channel_messages(self, channel: str = INCIDENTS) -> list[PostedMessage]:
        return list(self.slack.messages.get(channel, []))


async def start_bridge(
    tmp_path: Path,
    *,
    config_text: str = CONFIG,
    options: RuntimeOptions | None = None,
    usergroups: Mapping[str, list[str]] | None = None,
    extra_env: Mapping[str, str] | None = None,
    own_public_url: bool = False,
    adjust: Callable[[Settings], Settings] | None = None,
) -> Bridge:
    """``own_public_url``: acknowledge links point at this bridge (see ``start_world``)."""
    world = await start_world(
        tmp_path,
        config_text,
        options=options or FAST,
        usergroups={"S0SRE1234": [BOB]} if usergroups is None else usergroups,
        extra_env=extra_env,
        own_public_url=own_public_url,
        adjust=adjust,
    )
    return Bridge(world, world.user(ALICE, INCIDENTS))


# Back-off and throttling switched off through configuration, not by patching.
FAST = RuntimeOptions(
    retry=RetryPolicy(base_delay=0, default_retry_after=0.05), report_interval=0.05
)


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    """A running bridge with the default test config."""
    running = await start_bridge(tmp_path)
    try:
        yield running
    finally:
        await running.world.close()
