"""A whole bridge on loopback: sandbox Slack, the three provider emulators, a config pointing at
them, a store, and the bridge's own HTTP server. Used by the demo and the end-to-end tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.env import read_env
from bot.runtime import Runtime, RuntimeOptions
from bot.sandbox.slack_api import SlackSandbox, start_slack_sandbox
from bot.sandbox.state import SlackState
from bot.sandbox.user import SlackUser
from bot.web import SLOT, build_web_app
from config import Settings, load
from providers.emulators.common import RunningServer, serve
from providers.emulators.suite import EmulatorSuite, start_suite

SIGNING_SECRET = "sandbox-signing-secret-0123456789"
KEYS = {
    "TALKNTALK_API_KEY": "tnt-sandbox-key-SECRET-1",
    "AUTOKONNECT_API_KEY": "ak-sandbox-key-SECRET-2",
    "KALEYRA_API_KEY": "kal-sandbox-key-SECRET-3",
}


@dataclass
class World:
    """Handles on a running bridge and everything it talks to."""

    bridge: RunningServer
    slack: SlackSandbox
    emulators: EmulatorSuite
    runtime: Runtime
    settings: Settings

    @property
    def events_url(self) -> str:
        return self.bridge.url + "/slack/events"

    def user(self, user_id: str, channel: str) -> SlackUser:
        return SlackUser(self.slack.state, self.events_url, SIGNING_SECRET, user_id, channel)

    async def idle(self) -> None:
        """Wait until every background send has finished and its report is written."""
        await self.runtime.service.wait_idle()

    async def close(self) -> None:
        await self.runtime.service.wait_idle()
        await self.bridge.close()
        await self.slack.server.close()
        await self.emulators.close()


def world_env(suite: EmulatorSuite, slack: SlackSandbox, db: Path) -> dict[str, str]:
    """The environment a config written for the world expects (${TNT_URL} etc.)."""
    return {
        **KEYS,
        "TNT_URL": suite.url("talkntalk"),
        "AK_URL": suite.url("autokonnect"),
        "KAL_URL": suite.url("kaleyra"),
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": SlackState().bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "BRIDGE_DB": str(db),
    }


async def start_world(
    workdir: Path,
    config_text: str,
    *,
    options: RuntimeOptions | None = None,
    usergroups: Mapping[str, list[str]] | None = None,
) -> World:
    """Start everything on 127.0.0.1 (OS-chosen ports); ``config_text`` uses ${TNT_URL} etc."""
    suite = await start_suite(
        talkntalk_key=KEYS["TALKNTALK_API_KEY"],
        autokonnect_key=KEYS["AUTOKONNECT_API_KEY"],
        kaleyra_key=KEYS["KALEYRA_API_KEY"],
    )
    slack = await start_slack_sandbox()
    slack.state.usergroups.update(usergroups or {})
    env_vars = world_env(suite, slack, workdir / "bridge.db")
    config_path = workdir / "bridge.yaml"
    config_path.write_text(config_text, encoding="utf-8")
    settings = load(config_path, env={**os.environ, **env_vars})
    app = build_web_app(settings, read_env(env_vars), options)
    server = await serve(app)
    runtime = app[SLOT].runtime
    assert runtime is not None
    return World(server, slack, suite, runtime, settings)
