"""``conversations.history`` and ``conversations.replies``: what the app can read back of a
channel or a thread, with message ``metadata`` only when asked (``include_all_metadata``).

Why: a replica that takes over a send looks its predecessor's root message up by metadata (it
may have been posted just before that replica died, with no ts recorded); the stand-in must
answer as Slack does: newest first for a channel, oldest first for a thread, paged by cursor,
and ``missing_scope`` without ``channels:history``.
"""

from __future__ import annotations

from typing import Any

from bridge_sandbox.slack.methods import Method, SlackError, _flag, _message
from bridge_sandbox.slack.records import PostedMessage
from bridge_sandbox.slack.state import SlackState


def _scope(state: SlackState) -> None:
    if "channels:history" in state.missing_scopes or "channels:history" not in state.scopes:
        provided = ",".join(s for s in state.scopes if s not in state.missing_scopes)
        raise SlackError("missing_scope", needed="channels:history", provided=provided)


def _page(state: SlackState, args: dict[str, Any], found: list[PostedMessage]) -> dict[str, Any]:
    oldest = float(args.get("oldest") or 0)
    found = [m for m in found if float(m.ts) > oldest]
    limit = max(1, min(int(args.get("limit") or 100), 1000))
    start = int(args.get("cursor") or 0)
    page = found[start : start + limit]
    messages = []
    for msg in page:
        body = _message(state, msg)
        if msg.metadata is not None and _flag(args.get("include_all_metadata")):
            body["metadata"] = msg.metadata
        messages.append(body)
    more = start + limit < len(found)
    return {
        "messages": messages,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def conversations_history(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    _scope(state)
    channel = str(args.get("channel") or "")
    if channel not in state.channels:
        raise SlackError("channel_not_found")
    top = [
        m
        for m in state.messages.get(channel, [])
        if not m.deleted and (not m.is_reply or m.reply_broadcast)
    ]
    return _page(state, args, list(reversed(top)))


def conversations_replies(state: SlackState, args: dict[str, Any]) -> dict[str, Any]:
    _scope(state)
    channel = str(args.get("channel") or "")
    thread = state.thread(channel, str(args.get("ts") or ""))
    if not thread:
        raise SlackError("thread_not_found")
    return _page(state, args, thread)


HISTORY_METHODS: dict[str, Method] = {
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
}
