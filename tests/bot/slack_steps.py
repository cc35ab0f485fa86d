"""Steps the end-to-end Slack tests share: type a command and read the reply, click a button on an
ephemeral message, count what the providers received.

Why here: the sandbox builds clicks only for messages in a channel; a held send's Send/Cancel
prompt is ephemeral (it comes through the response_url), so its click is built here the way Slack
sends it (``container.is_ephemeral``, a response_url that replaces that ephemeral).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from bridge_sandbox.slack.records import Ephemeral, PostedMessage
from bridge_sandbox.slack.state import SlackState
from bridge_sandbox.slack.user import send_to_app
from bridge_sandbox.world import SIGNING_SECRET

from tests.bot.bridge_kit import ALICE, INCIDENTS, Bridge


async def ephemeral_after(bridge: Bridge, before: int, user: str = ALICE) -> Ephemeral:
    """The first ephemeral for ``user`` posted after the first ``before`` ones."""

    def found(state: Any) -> Ephemeral | None:
        return next((e for e in state.ephemerals[before:] if e.user == user), None)

    return await bridge.slack.wait_for(found)


async def slash(
    bridge: Bridge, text: str, *, user: str = ALICE, channel: str = INCIDENTS
) -> Ephemeral:
    """``/send <text>`` typed by ``user`` in ``channel``; the ephemeral answer."""
    before = len(bridge.slack.ephemerals)
    status, ack = await bridge.as_user(user, channel).slash("/send", text)
    assert status == 200
    assert ack is None  # an empty ack: the answer follows through the response_url
    return await ephemeral_after(bridge, before, user)


def deliveries(bridge: Bridge) -> list[str]:
    """Every recipient any provider emulator accepted a message for."""
    emulators = bridge.emulators
    return [
        d.recipient
        for state in (emulators.talkntalk, emulators.autokonnect, emulators.kaleyra)
        for d in state.deliveries
    ]


def provider_requests(bridge: Bridge) -> int:
    emulators = bridge.emulators
    return sum(
        len(s.requests) for s in (emulators.talkntalk, emulators.autokonnect, emulators.kaleyra)
    )


async def nothing_sent(bridge: Bridge) -> None:
    await bridge.idle()
    assert provider_requests(bridge) == 0
    assert deliveries(bridge) == []
    assert bridge.channel_messages() == []


def roots(bridge: Bridge, channel: str = INCIDENTS) -> list[PostedMessage]:
    """Messages the bridge posted at the top of a channel (one per accepted request)."""
    return [m for m in bridge.channel_messages(channel) if m.user is None and not m.is_reply]


def click_ephemeral_body(
    bridge: Bridge, eph: Ephemeral, action_id: str, *, user: str = ALICE
) -> bytes:
    """The block_actions payload for a button on an ephemeral message."""
    return ephemeral_click(bridge.slack, eph, action_id, user=user)


def ephemeral_click(
    state: SlackState, eph: Ephemeral, action_id: str, *, user: str = ALICE
) -> bytes:
    """``click_ephemeral_body`` for a sandbox Slack without a whole bridge (the replica tests)."""
    assert state.base_url is not None
    url = state.new_response_url(state.base_url, "actions", channel=eph.channel, user=user)
    state.response_targets[url.rsplit("/", 1)[1]].ephemerals.append(eph)
    block, button = next(
        (b, e)
        for b in eph.blocks
        for e in b.get("elements") or []
        if isinstance(e, dict) and e.get("action_id") == action_id
    )
    payload = {
        "type": "block_actions",
        "team": {"id": state.team_id, "domain": state.team_domain},
        "user": {"id": user, "username": state.users.get(user, user), "team_id": state.team_id},
        "api_app_id": state.app_id,
        "token": "LEGACY-VERIFICATION-TOKEN",
        "container": {
            "type": "message",
            "message_ts": eph.ts,
            "channel_id": eph.channel,
            "is_ephemeral": True,
        },
        "trigger_id": state.issue_trigger(user),
        "channel": {"id": eph.channel, "name": state.channels.get(eph.channel, eph.channel)},
        "state": {"values": {}},
        "response_url": url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block.get("block_id"),
                "value": button.get("value"),
                "text": button.get("text"),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def send(bridge: Bridge, body: bytes, retry_num: int | None = None) -> int:
    """POST a signed payload to the bridge as Slack would; the HTTP status."""
    status, _ = await send_to_app(bridge.world.events_url, body, SIGNING_SECRET, retry_num)
    return status


async def settle(bridge: Bridge, responses: int) -> None:
    """Wait until the app has posted ``responses`` response_url answers in all, then idle."""
    await bridge.slack.wait_for(lambda s: len(s.responses) >= responses)
    await bridge.idle()
