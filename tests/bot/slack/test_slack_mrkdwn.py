"""Hostile text never becomes a live mention or a disguised link in what the bridge posts.

Every user-supplied piece (slash text, modal text, broadcast text, provider reasons) is escaped
before it goes into mrkdwn; the loopback Slack records the blocks, and these tests read every
mrkdwn text in them for control sequences (``<...>``) the bridge did not mean to write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bridge_sandbox.emulators.common import Fault

from bot.slack import ids
from tests.bot.bridge_kit import ALICE, INCIDENTS, Bridge
from tests.bot.slack_steps import deliveries, roots, slash

HOSTILE = (
    "<!channel> <!here> <@U0BOB00002> <#C0RANDOM01> <https://evil.example|https://sso.acme.com> "
    "& <!subteam^S0SRE1234>"
)
# What Slack puts in a slash command's text when someone types HOSTILE.
SLACK_ENCODED = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
# The only control sequences the bridge itself writes: the sender's mention and dates.
OURS = re.compile(r"<@U0ALICE001>|<!date\^\d+\^[^|<>]*\|[^<>]*>")


def mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every text Slack parses as mrkdwn inside ``node`` (blocks, views, elements)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def assert_inert(text: str, blocks: Any) -> None:
    """No ``<...>`` but ours in the message text or any mrkdwn; the hostile text is shown."""
    texts = [text, *mrkdwn_texts(blocks)]
    for one in texts:
        stray = [c for c in re.findall(r"<[^<>]*>", one) if not OURS.fullmatch(c)]
        assert stray == [], one
    assert any("&lt;!channel&gt;" in t for t in texts)


async def test_slash_text_cannot_mention_everyone_or_disguise_a_link(bridge: Bridge) -> None:
    await slash(bridge, f"oncall-sms {SLACK_ENCODED}")
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    [root] = roots(bridge)
    assert_inert(root.text, root.blocks)
    for edit in root.history:
        assert_inert(edit.text, edit.blocks)
    assert "&lt;https://evil.example|https://sso.acme.com&gt;" in repr(root.blocks)
    # The provider got what the person typed, not the escaped form.
    assert {d.payload["message"] for d in bridge.emulators.talkntalk.deliveries} == {HOSTILE}


async def test_modal_text_cannot_mention_everyone_or_disguise_a_link(bridge: Bridge) -> None:
    status, _ = await bridge.user.slash("/send", "")
    assert status == 200
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    status, ack = await bridge.user.submit(view["id"], {ids.TEXT_BLOCK: HOSTILE})
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    [root] = roots(bridge)
    assert_inert(root.text, root.blocks)


async def test_broadcast_announcement_is_inert(bridge: Bridge) -> None:
    await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
    await bridge.slack.wait_for(lambda s: s.calls_to("views.open"))
    view = bridge.slack.last_view()
    assert view is not None
    values = {f"{ids.SEVERITY_BLOCK}.oncall": "SEV1", ids.TEXT_BLOCK: HOSTILE}
    status, ack = await bridge.user.submit(view["id"], values)
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 3)
    await bridge.idle()
    [root] = roots(bridge, INCIDENTS)
    assert_inert(root.text, root.blocks)


async def failed_with_hostile_reason(bridge: Bridge) -> str:
    """A send whose two recipients both fail with a provider reason quoting HOSTILE."""
    fault = Fault(status=400, body={"detail": HOSTILE, "code": "invalid_request"}, times=2)
    bridge.emulators.talkntalk.inject(fault)
    await slash(bridge, "oncall-sms Disk full on db-1")
    await bridge.slack.wait_for_message(INCIDENTS, ids.RETRY_FAILED)
    await bridge.idle()
    [request] = await bridge.runtime.store.recent_requests(None)
    return request.request_id


async def test_failure_list_with_a_hostile_provider_reason_is_inert(bridge: Bridge) -> None:
    await failed_with_hostile_reason(bridge)
    failure = await bridge.slack.wait_for_message(INCIDENTS, ids.RETRY_FAILED)
    assert_inert(failure.text, failure.blocks)


async def test_status_and_history_with_hostile_text_are_inert(bridge: Bridge) -> None:
    request_id = await failed_with_hostile_reason(bridge)
    status = await slash(bridge, f"status {request_id}")
    assert_inert(status.text, status.blocks)
    await slash(bridge, f"oncall-sms {SLACK_ENCODED}")
    await bridge.idle()
    history = await slash(bridge, "history", user=ALICE)
    for text in [history.text, *mrkdwn_texts(history.blocks)]:
        assert [c for c in re.findall(r"<[^<>]*>", text) if not OURS.fullmatch(c)] == []
