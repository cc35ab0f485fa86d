"""Fuzz /slack/events with signed, malformed requests: always a 200, never a traceback.

Issue 7: 515 of 2,500 fuzzed signed payloads (user null or a list, no ``actions``, unknown ids,
odd view state, private_metadata not JSON) answered 5xx with tracebacks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import ids
from tests.fuzz.slack_rig import EXAMPLES, SIGNED_SLACK, Rig, rig_for

TEAM = {"id": "T0ACME0001", "domain": "acme"}  # bolt reads the team id from here or from user
USER = {"id": "U0ALICE001", "username": "alice", "name": "alice", "team_id": "T0ACME0001"}
VIEW = {
    "id": "V0FUZZ0001",
    "type": "modal",
    "callback_id": ids.SEND_MODAL,
    "hash": "1.a",
    "private_metadata": '{"surface":"modal","slack_channel":"C0INCIDENT"}',
    "blocks": [
        {"type": "input", "block_id": ids.TEXT_BLOCK,
         "element": {"type": "plain_text_input", "action_id": ids.TEXT_ACTION}},
        {"type": "input", "block_id": ids.CHANNEL_BLOCK,
         "element": {"type": "static_select", "action_id": ids.CHANNEL_ACTION}},
    ],
    "state": {"values": {
        ids.TEXT_BLOCK: {ids.TEXT_ACTION: {"type": "plain_text_input", "value": "Disk full"}},
        ids.CHANNEL_BLOCK: {ids.CHANNEL_ACTION: {"type": "static_select",
                                                 "selected_option": {"value": "oncall-sms"}}},
    }},
}  # fmt: skip
BASES: list[dict[str, Any]] = [
    {"type": "block_actions", "user": USER, "trigger_id": "1.2.3",
     "container": {"type": "message", "channel_id": "C0INCIDENT", "message_ts": "1.000100"},
     "channel": {"id": "C0INCIDENT"}, "message": {"ts": "1.000100", "text": "x", "blocks": []},
     "actions": [{"action_id": ids.RETRY_FAILED, "block_id": "b", "value": "R00000000"}]},
    {"type": "block_actions", "user": USER, "trigger_id": "1.2.3", "view": VIEW,
     "actions": [{"action_id": ids.CHANNEL_ACTION, "block_id": ids.CHANNEL_BLOCK}]},
    {"type": "view_submission", "user": USER, "trigger_id": "1.2.3", "view": VIEW},
    {"type": "view_submission", "user": USER, "view": {**VIEW, "callback_id": ids.BROADCAST_MODAL}},
    {"type": "view_closed", "user": USER, "view": VIEW},
    {"type": "shortcut", "user": USER, "callback_id": ids.BROADCAST_SHORTCUT, "trigger_id": "1.2",
     "team": TEAM},
    {"type": "message_action", "user": USER, "callback_id": ids.MESSAGE_SHORTCUT, "team": TEAM,
     "trigger_id": "1.2", "channel": {"id": "C0INCIDENT"}, "message": {"ts": "1.1", "text": "hi"}},
]  # fmt: skip
KEYS = sorted({"type", "user", "id", "actions", "action_id", "value", "view", "state", "values",
               "private_metadata", "callback_id", "blocks", "element", "message", "channel",
               "container", "trigger_id", "hash", "selected_option", "block_id", "team",
               "team_id", "enterprise"})  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                 max_size=3),
    max_leaves=8,
)  # fmt: skip


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def malformed_payloads(draw: st.DrawFn, response_url: str) -> dict[str, Any]:
    """A valid payload with one to three parts deleted or replaced by any JSON value. The
    response_url, which Slack sets and signs, is kept (the bridge posts to it)."""
    payload: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(BASES)))
    if payload["type"] == "block_actions" and "view" not in payload:
        payload["response_url"] = response_url
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(payload) if p != ("response_url",)]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = payload
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return payload


slash_texts = st.text(max_size=60) | st.sampled_from(
    ["db payload too big", "payload=x", "{json", "a&b=c", "status", "status ", "help", "list"]
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from rig_for(Path(tmp_path_factory.mktemp("fuzz")))


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _check(rig: Rig, kind: str, body: bytes) -> None:
    """A signed request: Slack's 200, and after its work is done no traceback in the logs."""
    rig.catcher.clear()
    status, seconds = rig.post(body)
    problems = rig.settle(kind, status, seconds, SIGNED_SLACK)
    assert status == 200, body[:300]
    assert problems == []


@FUZZ
@given(data=st.data())
def test_malformed_signed_interactions_get_200_and_no_traceback(rig: Rig, data: Any) -> None:
    state = rig.world.slack.state
    assert state.base_url is not None
    url = state.new_response_url(state.base_url, "actions", channel="C0INCIDENT", user=USER["id"])
    payload = data.draw(malformed_payloads(url))
    kind = payload.get("type")
    kind = kind if isinstance(kind, str) and kind in {b["type"] for b in BASES} else "mangled"
    _check(rig, f"slack {kind}", urlencode({"payload": json.dumps(payload)}).encode())


@FUZZ
@given(
    text=slash_texts,
    extra=st.dictionaries(st.sampled_from(["user_id", "trigger_id", "channel_id", "zz", "payload"]),
                          st.text(max_size=10), max_size=2),
    drop=st.sets(st.sampled_from(["user_id", "trigger_id", "channel_id", "response_url"])),
)  # fmt: skip
def test_signed_slash_bodies_get_200_and_no_traceback(
    rig: Rig, text: str, extra: dict[str, str], drop: set[str]
) -> None:
    state = rig.world.slack.state
    assert state.base_url is not None
    fields = {
        "token": "LEGACY", "team_id": "T0ACME0001", "channel_id": "C0INCIDENT",
        "user_id": "U0ALICE001", "command": "/send", "text": text,
        "response_url": state.new_response_url(state.base_url, channel="C0INCIDENT",
                                               user="U0ALICE001"),
        "trigger_id": state.issue_trigger("U0ALICE001"),
    }  # fmt: skip
    fields.update(extra)
    for key in drop:
        fields.pop(key, None)
    _check(rig, "slack slash", urlencode(fields).encode())


@FUZZ
@given(raw=st.binary(max_size=80) | st.text(max_size=80).map(lambda t: ("payload=" + t).encode()))
def test_signed_garbage_bodies_get_200_and_no_traceback(rig: Rig, raw: bytes) -> None:
    _check(rig, "slack garbage body", raw)
