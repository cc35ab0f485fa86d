"""Refusals echo what the person typed, and that echo is inert: no live mention, no link.

Issue 7 follow-up: ``rejected_text`` and the parse errors sent a ``Rejection``'s words unescaped,
so an unknown channel typed as ``<!channel>`` came back as a live ``@channel``, and the usage line
``/send status <request-id>`` was read by Slack as a link.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from bot.slack import ids
from tests.bot.bridge_kit import ALICE, INCIDENTS, Bridge
from tests.bot.slack.test_slack_mrkdwn import OURS
from tests.bot.slack_steps import ephemeral_after, send, slash

# (what Slack puts in the command text, what the person typed)
TYPED = [
    ("&lt;!channel&gt; hi", "<!channel>"),
    ("<!channel> hi", "@channel"),
    ("status &lt;!here&gt;", "<!here>"),
    ("status <!here>", "@here"),
    ("status &lt;#C0RANDOM01&gt;", "<#C0RANDOM01>"),
    ("&lt;https://evil.example|https://sso.acme.com&gt; x", "<https://evil.example"),
]


def stray_controls(text: str) -> list[str]:
    return [c for c in re.findall(r"<[^<>]*>", text) if not OURS.fullmatch(c)]


@pytest.mark.parametrize(("text", "shown"), TYPED)
async def test_a_refusal_never_carries_a_live_mention_or_link(
    bridge: Bridge, text: str, shown: str
) -> None:
    reply = await slash(bridge, text)
    assert stray_controls(reply.text) == [], reply.text
    escaped = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped.lower() in reply.text.lower(), reply.text  # request ids are upper-cased


async def test_the_status_usage_shows_its_placeholder_escaped(bridge: Bridge) -> None:
    reply = await slash(bridge, "status")
    assert "usage: /send status &lt;request-id&gt;" in reply.text, reply.text


@pytest.mark.parametrize("action_id", [ids.RETRY_FAILED, ids.CONFIRM_SEND, ids.CANCEL_SEND])
async def test_a_button_value_is_echoed_inert(bridge: Bridge, action_id: str) -> None:
    """A signed click whose value is ``<!channel>`` (Slack signs whatever value a client sent)."""
    state = bridge.slack
    assert state.base_url is not None
    url = state.new_response_url(state.base_url, "actions", channel=INCIDENTS, user=ALICE)
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice", "team_id": state.team_id},
        "trigger_id": state.issue_trigger(ALICE),
        "container": {"type": "message", "channel_id": INCIDENTS, "message_ts": "1.000100"},
        "channel": {"id": INCIDENTS},
        "response_url": url,
        "actions": [{"action_id": action_id, "block_id": "b", "value": "<!channel>"}],
    }
    before = len(state.ephemerals)
    assert await send(bridge, urlencode({"payload": json.dumps(payload)}).encode()) == 200
    reply = await ephemeral_after(bridge, before)
    assert stray_controls(reply.text) == [], reply.text
    assert "&lt;!channel&gt;" in reply.text, reply.text
