"""Raw request bodies Slack posts to ``/slack/events`` when a person types or clicks.

Why: the app must be driven through its real parser and signature check, with bodies shaped like
the reference payloads in ``tests/fixtures/slack-payloads`` (slash commands as form fields,
everything else as a ``payload=<JSON>`` form field). Builders take the sandbox state so every
trigger_id is one the sandbox will exchange in ``views.open`` and every response_url points back
at the sandbox.
Clicks and choices in a modal also update the sandbox's copy of ``view.state``, as Slack does.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from bridge_sandbox.slack.blockkit import element_state, find_element
from bridge_sandbox.slack.state import PostedMessage, SlackState

LEGACY_TOKEN = "LEGACY-VERIFICATION-TOKEN"
DEFAULT_USER = "U0ALICE001"
DEFAULT_CHANNEL = "C0INCIDENT"


def _base(state: SlackState) -> str:
    if state.base_url is None:
        raise RuntimeError("serve the sandbox first (start_slack_sandbox) or set state.base_url")
    return state.base_url


def _form(fields: Mapping[str, str]) -> bytes:
    return urlencode(fields).encode()


def _payload(obj: dict[str, Any]) -> bytes:
    return _form({"payload": json.dumps(obj, separators=(",", ":"))})


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _team(state: SlackState) -> dict[str, str]:
    return {"id": state.team_id, "domain": state.team_domain}


def _user(state: SlackState, user: str) -> dict[str, str]:
    name = state.users.get(user, user.lower())
    return {"id": user, "username": name, "name": name, "team_id": state.team_id}


def _common(state: SlackState, kind: str, user: str) -> dict[str, Any]:
    """The fields every block_actions / view_* payload starts with."""
    return {
        "type": kind,
        "team": _team(state),
        "user": _user(state, user),
        "api_app_id": state.app_id,
        "token": LEGACY_TOKEN,
    }


def _message(state: SlackState, channel: str, ts: str) -> PostedMessage:
    msg = state.find_message(channel, ts)
    if msg is None:
        raise LookupError(f"no message {ts} in {channel} in the sandbox")
    return msg


def _view(state: SlackState, view_id: str) -> dict[str, Any]:
    if view_id not in state.views or view_id in state.closed_views:
        raise LookupError(f"no open view {view_id} in the sandbox")
    return state.views[view_id]


def slash_command(
    state: SlackState,
    command: str,
    text: str = "",
    *,
    user: str = DEFAULT_USER,
    channel: str = DEFAULT_CHANNEL,
) -> bytes:
    """``/send list`` typed by ``user`` in ``channel``: plain form fields, in Slack's order."""
    url = state.new_response_url(_base(state), "commands", channel=channel, user=user)
    return _form(
        {
            "token": LEGACY_TOKEN,
            "team_id": state.team_id,
            "team_domain": state.team_domain,
            "channel_id": channel,
            "channel_name": state.channels.get(channel, channel.lower()),
            "user_id": user,
            "user_name": state.users.get(user, user.lower()),
            "command": command,
            "text": text,
            "api_app_id": state.app_id,
            "is_enterprise_install": "false",
            "response_url": url,
            "trigger_id": state.issue_trigger(user),
        }
    )


def global_shortcut(state: SlackState, callback_id: str, *, user: str = DEFAULT_USER) -> bytes:
    """A global shortcut: no channel and no response_url, only a trigger for a modal."""
    who = _user(state, user)
    del who["name"]
    return _payload(
        {
            "type": "shortcut",
            "token": LEGACY_TOKEN,
            "action_ts": _action_ts(),
            "team": _team(state),
            "user": who,
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": state.issue_trigger(user),
        }
    )


def message_shortcut(
    state: SlackState,
    callback_id: str,
    message_ts: str,
    *,
    channel: str = DEFAULT_CHANNEL,
    user: str = DEFAULT_USER,
) -> bytes:
    """A message shortcut on a message already in the sandbox (seed one with ``state.post``)."""
    msg = _message(state, channel, message_ts)
    message = msg.to_api(state.team_id, state.app_id)
    if msg.user is not None:
        message["client_msg_id"] = f"00000000-0000-4000-8000-{msg.ts.replace('.', '')[-12:]}"
        message.setdefault("blocks", [_rich_text(msg.text)])
    url = state.new_response_url(_base(state), "app", channel=channel, user=user)
    return _payload(
        {
            "type": "message_action",
            "token": LEGACY_TOKEN,
            "action_ts": _action_ts(),
            "team": _team(state),
            "user": {"id": user, "name": state.users.get(user, user.lower())},
            "channel": {"id": channel, "name": state.channels.get(channel, channel.lower())},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": state.issue_trigger(user),
            "message_ts": msg.ts,
            "message": message,
            "response_url": url,
        }
    )


def _rich_text(text: str) -> dict[str, Any]:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return {"type": "rich_text", "block_id": "sbx0", "elements": [section]}


def _action(block: dict[str, Any], element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The ``actions[0]`` entry Slack sends for a click or a choice."""
    action: dict[str, Any] = {
        "type": element.get("type"),
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
    }
    if element.get("type") == "button":
        action["text"] = {**element.get("text", {}), "emoji": True}
        if "value" in element:
            action["value"] = element["value"]
    else:
        entry = element_state(element, value)
        entry.pop("type")
        action.update(entry)
        if "placeholder" in element:
            action["placeholder"] = {**element["placeholder"], "emoji": True}
    action["action_ts"] = _action_ts()
    return action


def block_actions_message(
    state: SlackState,
    message_ts: str,
    action_id: str,
    *,
    channel: str = DEFAULT_CHANNEL,
    user: str = DEFAULT_USER,
    value: Any = None,
) -> bytes:
    """A click on a button (or a choice in a select) in a message the app posted."""
    msg = _message(state, channel, message_ts)
    block, element = find_element(msg.blocks, action_id)
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": msg.ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if msg.thread_ts is not None:
        container["thread_ts"] = msg.thread_ts
    url = state.new_response_url(
        _base(state),
        "actions",
        channel=channel,
        user=user,
        message_ts=msg.ts,
        thread_ts=msg.thread_ts,
    )
    return _payload(
        {
            **_common(state, "block_actions", user),
            "container": container,
            "trigger_id": state.issue_trigger(user),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": state.channels.get(channel, channel.lower())},
            "message": msg.to_api(state.team_id, state.app_id),
            "state": {"values": {}},
            "response_url": url,
            "actions": [_action(block, element, value)],
        }
    )


def block_actions_view(
    state: SlackState, view_id: str, action_id: str, value: Any = None, *, user: str = DEFAULT_USER
) -> bytes:
    """A choice in a modal that Slack reports at once (``dispatch_action`` or an actions block)."""
    view = _view(state, view_id)
    block, element = find_element(view["blocks"], action_id)
    if block.get("type") == "input" and not block.get("dispatch_action"):
        raise ValueError(f"Slack sends no block_actions for {action_id!r}: no dispatch_action")
    if element.get("type") != "button":
        values = view["state"]["values"].setdefault(block["block_id"], {})
        values[action_id] = element_state(element, value)
    return _payload(
        {
            **_common(state, "block_actions", user),
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": state.issue_trigger(user, view_id=view_id),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": copy.deepcopy(view),
            "actions": [_action(block, element, value)],
        }
    )


def fill_view(state: SlackState, view_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Record what a person typed or chose, keyed by block_id.

    A value is either what the person picked (``"sms"``, ``["sms", "whatsapp"]``, some text) for
    the block's one element, or ``{action_id: state_entry}`` exactly as Slack would send it.
    """
    view = _view(state, view_id)
    blocks = {b.get("block_id"): b for b in view["blocks"] if b.get("type") == "input"}
    stored = view["state"]["values"]
    for block_id, value in values.items():
        if block_id not in blocks:
            raise LookupError(f"no input block {block_id!r} in view {view_id}")
        is_raw = isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
        if is_raw:
            stored.setdefault(block_id, {}).update(value)
        else:
            element = blocks[block_id]["element"]
            stored.setdefault(block_id, {})[element["action_id"]] = element_state(element, value)
    return view


def view_submission(
    state: SlackState,
    view_id: str,
    values: Mapping[str, Any] | None = None,
    *,
    user: str = DEFAULT_USER,
) -> bytes:
    """The person presses Submit after filling in ``values`` (see ``fill_view``)."""
    view = fill_view(state, view_id, values or {})
    return _payload(
        {
            **_common(state, "view_submission", user),
            "trigger_id": state.issue_trigger(user, view_id=view_id),
            "view": copy.deepcopy(view),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )


def view_closed(state: SlackState, view_id: str, *, user: str = DEFAULT_USER) -> bytes:
    """The person presses Cancel (Slack sends this only with ``notify_on_close: true``)."""
    view = _view(state, view_id)
    state.closed_views.add(view_id)
    return _payload(
        {
            **_common(state, "view_closed", user),
            "view": copy.deepcopy(view),
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )
