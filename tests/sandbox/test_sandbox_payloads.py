"""Payload builders produce bodies shaped like Slack's (the reference files in slack-payloads)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from bridge_sandbox.slack import SlackSandbox, start_slack_sandbox
from bridge_sandbox.slack import payloads as p
from slack_sdk.web.async_client import AsyncWebClient

from tests.fixtures import slack_payload


def ref(name: str) -> Any:
    return slack_payload(name)


def keys(obj: Any, prefix: str = "") -> set[str]:
    """Every dotted key path through nested objects (lists are compared separately)."""
    if not isinstance(obj, dict):
        return set()
    out: set[str] = set()
    for k, v in obj.items():
        out.add(prefix + k)
        out |= keys(v, f"{prefix}{k}.")
    return out


def payload(body: bytes) -> Any:
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    assert list(fields) == ["payload"]  # README: interactive payloads come as payload=<JSON>
    return json.loads(fields["payload"])


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    sb = await start_slack_sandbox()
    yield sb
    await sb.close()


async def open_reference_modal(sandbox: SlackSandbox) -> str:
    client = AsyncWebClient(token=sandbox.state.bot_token, base_url=sandbox.api_url)
    trigger = sandbox.state.issue_trigger("U0ALICE001")
    opened = await client.views_open(trigger_id=trigger, view=ref("views_open_modal.json"))
    return str(opened["view"]["id"])


def test_slash_command_has_slacks_fields_in_slacks_order(sandbox: SlackSandbox) -> None:
    body = p.slash_command(sandbox.state, "/page", "oncall-payments P1: card auth failing")
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    assert list(fields) == list(ref("slash_command.fields.json"))
    assert fields["command"] == "/page"
    assert fields["response_url"].startswith(sandbox.url + "/hooks/commands/T0ACME0001/")
    assert fields["trigger_id"] in sandbox.state.triggers


def test_global_shortcut_matches_the_reference_shape(sandbox: SlackSandbox) -> None:
    built = payload(p.global_shortcut(sandbox.state, "oncall_broadcast"))
    assert keys(built) == keys(ref("global_shortcut.json"))
    assert built["callback_id"] == "oncall_broadcast"
    assert "response_url" not in built  # README: "(no channel, no response_url)"


def test_message_shortcut_matches_the_reference_shape(sandbox: SlackSandbox) -> None:
    seeded = sandbox.state.post(
        "C0INCIDENT", "Checkout error rate is 30% since 10:02 UTC", user="U0CAROL003"
    )
    built = payload(p.message_shortcut(sandbox.state, "page_oncall_from_message", seeded.ts))
    assert keys(built) == keys(ref("message_shortcut.json"))
    assert built["message"]["user"] == "U0CAROL003"
    assert built["message_ts"] == seeded.ts


def test_button_click_in_a_thread_matches_the_reference_shape(sandbox: SlackSandbox) -> None:
    reference = ref("block_actions_message_button.json")
    root = sandbox.state.post("C0INCIDENT", "incident", user="U0CAROL003")
    msg = sandbox.state.post(
        "C0INCIDENT",
        reference["message"]["text"],
        reference["message"]["blocks"],
        thread_ts=root.ts,
    )
    built = payload(p.block_actions_message(sandbox.state, msg.ts, "retry_failed"))
    assert keys(built) == keys(reference)
    assert keys(built["actions"][0]) == keys(reference["actions"][0])
    assert built["actions"][0]["value"] == "dispatch:42"
    assert built["container"]["thread_ts"] == root.ts


def test_clicking_a_button_that_is_not_there_fails_loudly(sandbox: SlackSandbox) -> None:
    msg = sandbox.state.post("C0INCIDENT", "no buttons")
    with pytest.raises(LookupError):
        p.block_actions_message(sandbox.state, msg.ts, "retry_failed")


async def test_select_in_a_modal_matches_the_reference_and_updates_view_state(
    sandbox: SlackSandbox,
) -> None:
    reference = ref("block_actions_in_modal.json")
    view_id = await open_reference_modal(sandbox)
    body = p.block_actions_view(sandbox.state, view_id, "destination_select", "oncall-payments")
    built = payload(body)
    assert keys(built) == keys(reference)
    assert keys(built["actions"][0]) == keys(reference["actions"][0])
    assert built["view"]["state"] == reference["view"]["state"]
    assert sandbox.state.views[view_id]["state"] == reference["view"]["state"]
    assert sandbox.state.triggers[built["trigger_id"]].view_id == view_id


async def test_input_without_dispatch_action_sends_no_block_actions(
    sandbox: SlackSandbox,
) -> None:
    view_id = await open_reference_modal(sandbox)
    with pytest.raises(ValueError, match="dispatch_action"):
        p.block_actions_view(sandbox.state, view_id, "message_text", "hi")


async def test_view_submission_carries_the_values_given(sandbox: SlackSandbox) -> None:
    reference = ref("view_submission.json")
    view_id = await open_reference_modal(sandbox)
    values = {
        "destination": "oncall-payments",
        "transport": ["sms", "whatsapp"],
        "message": "P1: checkout error rate 30% since 10:02 UTC. Join https://meet.example/abc",
        "confirm": ["yes"],
    }
    built = payload(p.view_submission(sandbox.state, view_id, values))
    assert keys(built) == keys(reference)
    assert built["view"]["state"] == reference["view"]["state"]
    assert built["view"]["private_metadata"] == reference["view"]["private_metadata"]
    assert built["view"]["callback_id"] == "broadcast_submit"
    assert built["view"]["hash"] == sandbox.state.views[view_id]["hash"]


async def test_view_submission_accepts_raw_state_entries(sandbox: SlackSandbox) -> None:
    view_id = await open_reference_modal(sandbox)
    raw = {"message_text": {"type": "plain_text_input", "value": "hello"}}
    built = payload(p.view_submission(sandbox.state, view_id, {"message": raw}))
    assert built["view"]["state"]["values"]["message"] == raw


async def test_view_closed_matches_the_reference_shape(sandbox: SlackSandbox) -> None:
    view_id = await open_reference_modal(sandbox)
    p.block_actions_view(sandbox.state, view_id, "destination_select", "oncall-payments")
    built = payload(p.view_closed(sandbox.state, view_id))
    assert keys(built) == keys(ref("view_closed.json"))
    assert view_id in sandbox.state.closed_views


# --- response_url posts -----------------------------------------------------------------------


async def post_json(url: str, body: dict[str, Any]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        return resp.status, await resp.text()


def response_url(body: bytes) -> str:
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if "payload" in fields:
        return str(json.loads(fields["payload"])["response_url"])
    return fields["response_url"]


async def test_an_ephemeral_response_reaches_only_the_person(sandbox: SlackSandbox) -> None:
    url = response_url(p.slash_command(sandbox.state, "/send", "list"))
    reply = ref("ack_slash_command_ephemeral.json")
    assert await post_json(url, reply) == (200, "ok")
    assert sandbox.state.responses[0].body == reply
    assert sandbox.state.responses[0].kind == "commands"
    eph = sandbox.state.ephemerals[0]
    assert (eph.user, eph.channel, eph.text) == ("U0ALICE001", "C0INCIDENT", reply["text"])


async def test_an_in_channel_response_posts_a_message(sandbox: SlackSandbox) -> None:
    url = response_url(p.slash_command(sandbox.state, "/send", "x"))
    await post_json(url, {"response_type": "in_channel", "text": "Queued #42"})
    assert [m.text for m in sandbox.state.messages["C0INCIDENT"]] == ["Queued #42"]


async def test_replace_and_delete_original_act_on_the_clicked_message(
    sandbox: SlackSandbox,
) -> None:
    blocks = ref("block_actions_message_button.json")["message"]["blocks"]
    msg = sandbox.state.post("C0INCIDENT", "2 delivered, 1 failed", blocks)
    url = response_url(p.block_actions_message(sandbox.state, msg.ts, "retry_failed"))
    await post_json(url, {"replace_original": True, "text": "Retrying 1 recipient"})
    assert (msg.text, msg.blocks) == ("Retrying 1 recipient", [])
    assert msg.history[0].blocks == blocks
    await post_json(url, {"delete_original": True})
    assert sandbox.state.find_message("C0INCIDENT", msg.ts) is None


async def test_an_unknown_response_url_is_404_and_an_empty_body_400(
    sandbox: SlackSandbox,
) -> None:
    status, _ = await post_json(sandbox.url + "/hooks/commands/T0ACME0001/1/nope", {"text": "x"})
    assert status == 404
    url = response_url(p.slash_command(sandbox.state, "/send", "x"))
    assert (await post_json(url, {"response_type": "ephemeral"}))[0] == 400
    assert sandbox.state.responses == []
