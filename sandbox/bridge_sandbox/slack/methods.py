"""The Web API methods the bridge calls, answered the way Slack answers them.

Why: each handler is a pure function of (state, args) so the HTTP layer in ``slack_api.py`` owns
transport details (auth, faults, latency, form vs JSON) and this module owns Slack's semantics:
unique increasing ts, single-use triggers, view hashes, scopes. Errors use Slack's own codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge_sandbox.slack.blockkit import MAX_MESSAGE_BLOCKS, block_problems, view_problems
from bridge_sandbox.slack.state import Ephemeral, PostedMessage, SlackState, Trigger


class SlackError(Exception):
    """A Slack ``{"ok": false, "error": ...}`` answer, with any extra fields Slack adds."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


Method = Callable[[SlackState, dict[str, Any]], dict[str, Any]]


def _json_arg(args: dict[str, Any], name: str) -> Any:
    """slack_sdk sends ``blocks``/``view`` as objects in JSON bodies, as strings in forms."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(f"invalid_{name}") from None
    return value


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _required(args: dict[str, Any], name: str, error: str) -> str:
    value = args.get(name)
    if not value:
        raise SlackError(error)
    return str(value)


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]] | None:
    blocks = _json_arg(args, "blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    problems = block_problems(blocks, MAX_MESSAGE_BLOCKS, "/blocks")
    if problems:
        raise SlackError("invalid_blocks", response_metadata={"messages": problems})
    return blocks


def _text(args: dict[str, Any], blocks: list[dict[str, Any]] | None) -> str:
    text = str(args.get("text") or "")
    if not text and not blocks:
        raise SlackError("no_text")
    if len(text) > 40000:
        raise SlackError("msg_too_long")
    return text


def _message(state: SlackState, msg: PostedMessage) -> dict[str, Any]:
    body = msg.to_api(state.team_id, state.app_id)
    if msg.user is None:
        body["user"] = state.bot_user_id
    return body


def auth_test(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": f"https://{state.team_domain}.slack.com/",
        "team": state.team_name,
        "user": state.bot_name,
        "team_id": state.team_id,
        "user_id": state.bot_user_id,
        "bot_id": state.bot_id,
        "is_enterprise_install": False,
    }


def auth_test_as_user(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    """What auth.test answers for a user token: a person, no ``bot_id``."""
    return {
        "url": f"https://{state.team_domain}.slack.com/",
        "team": state.team_name,
        "user": "alice",
        "team_id": state.team_id,
        "user_id": "U0ALICE001",
        "is_enterprise_install": False,
    }


def chat_post_message(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    blocks = _blocks(args)
    text = _text(args, blocks)
    thread_ts = args.get("thread_ts") or None
    msg = state.post(
        channel,
        text,
        blocks,
        thread_ts=str(thread_ts) if thread_ts else None,
        reply_broadcast=_flag(args.get("reply_broadcast")),
    )
    metadata = _json_arg(args, "metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or not metadata.get("event_type"):
            raise SlackError("invalid_metadata_format")
        msg.metadata = metadata
    return {"channel": channel, "ts": msg.ts, "message": _message(state, msg)}


def chat_update(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    ts = _required(args, "ts", "message_not_found")
    msg = state.find_message(channel, ts)
    if msg is None:
        raise SlackError("message_not_found")
    if msg.user is not None:
        raise SlackError("cant_update_message")
    blocks = _blocks(args)
    text = args.get("text")
    if text is not None and len(str(text)) > 40000:
        raise SlackError("msg_too_long")
    msg.edit(None if text is None else str(text), blocks, state.clock())
    return {"channel": channel, "ts": ts, "text": msg.text, "message": _message(state, msg)}


def chat_post_ephemeral(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    user = _required(args, "user", "user_not_found")
    if user not in state.users:
        raise SlackError("user_not_found")
    blocks = _blocks(args)
    text = _text(args, blocks)
    thread_ts = args.get("thread_ts") or None
    eph = Ephemeral(channel, user, state.next_ts(), text, list(blocks or []), thread_ts)
    state.ephemerals.append(eph)
    return {"message_ts": eph.ts}


def chat_get_permalink(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    channel = _required(args, "channel", "channel_not_found")
    ts = _required(args, "message_ts", "message_not_found")
    msg = state.find_message(channel, ts)
    if msg is None:
        raise SlackError("message_not_found")
    link = f"https://{state.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    if msg.is_reply:
        link += f"?thread_ts={msg.thread_ts}&cid={channel}"
    return {"channel": channel, "permalink": link}


def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
    view = _json_arg(args, "view")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", response_metadata={"messages": ["missing view"]})
    problems = view_problems(view)
    if problems:
        raise SlackError("invalid_arguments", response_metadata={"messages": problems})
    return view


def store_view(
    state: SlackState,
    view: dict[str, Any],
    view_id: str,
    root: str,
    previous: str | None,
    values: dict[str, Any],
) -> dict[str, Any]:
    """The view object Slack answers with: the app's fields plus Slack's bookkeeping."""
    stored = {
        "id": view_id,
        "team_id": state.team_id,
        "type": view.get("type", "modal"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": values},
        "hash": state.new_hash(),
        "title": view.get("title"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": previous,
        "root_view_id": root,
        "app_id": state.app_id,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": state.team_id,
        "bot_id": state.bot_id,
    }
    state.remember_view(stored)
    return stored


def _trigger(state: SlackState, args: dict[str, Any]) -> Trigger:
    trigger_id = str(args.get("trigger_id") or args.get("interactivity_pointer") or "")
    trigger, error = state.use_trigger(trigger_id)
    if trigger is None:
        raise SlackError(error or "invalid_trigger_id")
    return trigger


def _check_external_id(state: SlackState, view: dict[str, Any]) -> None:
    if state.view_by_external_id(str(view.get("external_id", ""))) is not None:
        raise SlackError("duplicate_external_id")


def views_open(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    view = _view_arg(args)
    _trigger(state, args)
    _check_external_id(state, view)
    view_id = state.new_view_id()
    return {"view": store_view(state, view, view_id, view_id, None, {})}


def views_push(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    view = _view_arg(args)
    trigger = _trigger(state, args)
    _check_external_id(state, view)
    parent = state.views.get(trigger.view_id or "")
    if parent is None:  # Slack pushes only from an interaction inside an open modal
        raise SlackError("not_found")
    view_id = state.new_view_id()
    stored = store_view(state, view, view_id, parent["root_view_id"], parent["id"], {})
    return {"view": stored}


def views_update(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    view = _view_arg(args)
    if args.get("view_id"):
        current = state.views.get(str(args["view_id"]))
    elif args.get("external_id"):
        current = state.view_by_external_id(str(args["external_id"]))
    else:
        raise SlackError("invalid_arguments", response_metadata={"messages": ["view_id needed"]})
    if current is None:
        raise SlackError("not_found")
    if args.get("hash") and args["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    view.setdefault("external_id", current.get("external_id", ""))
    stored = store_view(
        state,
        view,
        current["id"],
        current["root_view_id"],
        current["previous_view_id"],
        current["state"]["values"],
    )
    return {"view": stored}


def usergroups_users_list(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    if "usergroups:read" in state.missing_scopes:
        provided = ",".join(s for s in state.scopes if s not in state.missing_scopes)
        raise SlackError("missing_scope", needed="usergroups:read", provided=provided)
    group = str(args.get("usergroup") or "")
    if group not in state.usergroups:
        raise SlackError("no_such_subteam")
    return {"users": list(state.usergroups[group])}


def users_info(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    user = str(args.get("user") or "")
    if user not in state.users:
        raise SlackError("user_not_found")
    name = state.users[user]
    return {
        "user": {
            "id": user,
            "team_id": state.team_id,
            "name": name,
            "real_name": name.title(),
            "deleted": False,
            "is_bot": False,
            "tz": "UTC",
            "profile": {"real_name": name.title(), "display_name": name},
        }
    }


def conversations_info(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel") or "")
    if channel not in state.channels:
        raise SlackError("channel_not_found")
    return {
        "channel": {
            "id": channel,
            "name": state.channels[channel],
            "is_channel": True,
            "is_private": False,
            "is_archived": False,
            "is_member": True,
        }
    }


def apps_connections_open(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    """A Socket Mode WebSocket URL (the app token was checked by the transport)."""
    if state.base_url is None:
        raise SlackError("internal_error")
    return {"url": state.socket.issue_url(state.base_url, state.app_id)}


# Methods Slack answers only for an app-level token (xapp-); every other one needs the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

METHODS: dict[str, Method] = {
    "apps.connections.open": apps_connections_open,
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "usergroups.users.list": usergroups_users_list,
    "users.info": users_info,
    "conversations.info": conversations_info,
}
