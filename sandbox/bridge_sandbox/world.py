"""A whole bridge on loopback: sandbox Slack, the three provider emulators, a config pointing at
them, a store, and the bridge's own HTTP server. Used by the demo and the end-to-end tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.server.env import read_env
from bot.server.limits import HttpServer, start_http
from bot.server.runtime import Runtime, RuntimeOptions
from bot.server.web import SLOT, build_web_app
from bridge_sandbox.emulators.common import RunningServer, bind_loopback, url_of
from bridge_sandbox.emulators.suite import EmulatorSuite, start_suite
from bridge_sandbox.slack.slack_api import SlackSandbox, start_slack_sandbox
from bridge_sandbox.slack.state import SlackState
from bridge_sandbox.slack.user import SlackUser
from config import Settings, load

SIGNING_SECRET = "sandbox-signing-secret-0123456789"
KEYS = {
    "TALKNTALK_API_KEY": "tnt-sandbox-key-SECRET-1",
    "AUTOKONNECT_API_KEY": "ak-sandbox-key-SECRET-2",
    "KALEYRA_API_KEY": "kal-sandbox-key-SECRET-3",
}

# The sandbox workspace's bridge config: the demo and the end-to-end tests use it. Numbers,
# session, WABA and SID are ones the emulators know; ${TNT_URL} etc. come from ``world_env``.
SANDBOX_CONFIG = """\
defaults:
  country: KE
  confirm_over: 10
  max_recipients: 50

providers:
  tnt:
    type: talkntalk
    api_key: ${TALKNTALK_API_KEY}
    base_url: ${TNT_URL}
    timeout_seconds: 2
  ak:
    type: autokonnect
    api_key: ${AUTOKONNECT_API_KEY}
    base_url: ${AK_URL}
    timeout_seconds: 2
  kal:
    type: kaleyra
    api_key: ${KALEYRA_API_KEY}
    sid: HXAP16XXXXXX97IN
    base_url: ${KAL_URL}
    timeout_seconds: 2

contacts:
  oncall: ["+254712345678", "0798 765 432"]
  everyone: ["+254700000001", "+254700000002", "+254700000003", "+254700000004",
             "+254700000005", "+254700000006", "+254700000007", "+254700000008",
             "+254700000009", "+254700000010", "+254700000011", "+254700000012"]

senders:
  sre: [U0ALICE001, usergroup:S0SRE1234]

channels:
  oncall-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    to: [oncall]
    allowed_senders: [sre]
    slack_channels: [C0INCIDENT]
  sms-adhoc:
    provider: tnt
    service: sms
    allowed_senders: [sre]
    allow_adhoc: true
  everyone-sms:
    provider: tnt
    service: sms
    to: [everyone]
    allowed_senders: [sre]
  noc-group:
    provider: tnt
    service: whatsapp_group
    session_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
    to: ["120363410923125768@g.us"]
    allowed_senders: [sre]
  customers:
    provider: ak
    service: waba
    waba_id: "123"
    to: ["tag:42"]
    allowed_senders: [sre]
    allow_adhoc: true
    message_types: [text, template, image, document]
  india-wa:
    provider: kal
    service: whatsapp
    from: "+919000000001"
    allowed_senders: [U0ALICE001]
    allow_adhoc: true

broadcasts:
  oncall:
    title: On-call broadcast
    channels: [oncall-sms, noc-group]
    template: "[{severity}] {text} (from {sender})"
    severities: [SEV1, SEV2, SEV3]
    allowed_senders: [sre]
    announce_in: C0INCIDENT
"""


@dataclass
class World:
    """Handles on a running bridge and everything it talks to."""

    bridge: HttpServer | RunningServer  # served as `serve` serves it (limits and all)
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
    extra_env: Mapping[str, str] | None = None,
    own_public_url: bool = False,
    adjust: Callable[[Settings], Settings] | None = None,
) -> World:
    """Start everything on 127.0.0.1 (OS-chosen ports); ``config_text`` uses ${TNT_URL} etc.

    ``adjust``: changes the loaded settings before the bridge starts, for settings the loader
    would refuse, so a check made at run time can be shown to stand without the loader's.

    ``own_public_url``: ``BRIDGE_PUBLIC_URL`` is the bridge's own loopback URL (its port is
    bound before the app is built), so the acknowledge links in pages open on this machine.
    """
    suite = await start_suite(
        talkntalk_key=KEYS["TALKNTALK_API_KEY"],
        autokonnect_key=KEYS["AUTOKONNECT_API_KEY"],
        kaleyra_key=KEYS["KALEYRA_API_KEY"],
    )
    slack = await start_slack_sandbox()
    slack.state.usergroups.update(usergroups or {})
    sock = bind_loopback()
    own = {"BRIDGE_PUBLIC_URL": url_of(sock)} if own_public_url else {}
    env_vars = {**world_env(suite, slack, workdir / "bridge.db"), **own, **(extra_env or {})}
    try:
        config_path = workdir / "bridge.yaml"
        config_path.write_text(config_text, encoding="utf-8")
        settings = load(config_path, env={**os.environ, **env_vars})
        if adjust is not None:
            settings = adjust(settings)
        env = read_env(env_vars)
        app = build_web_app(settings, env, options)
        server = await start_http(app, env.limits, sock=sock, shutdown_timeout=0.1)
    except BaseException:
        sock.close()
        raise
    runtime = app[SLOT].runtime
    assert runtime is not None
    return World(server, slack, suite, runtime, settings)
