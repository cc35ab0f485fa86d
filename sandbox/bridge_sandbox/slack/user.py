"""A person in the sandbox workspace: builds what Slack would post, signs it, sends it to the app.

Why: an end-to-end test or the demo reads as a story ("alice types /send list, clicks Retry
failed") instead of hand-built HTTP. Like Slack, the answer to a view_submission is applied to the
sandbox's modal (``response_action`` errors / update / push / clear, or close on an empty ack).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from bridge_sandbox.slack import payloads
from bridge_sandbox.slack.methods import store_view
from bridge_sandbox.slack.records import ResponseTarget
from bridge_sandbox.slack.signing import sign
from bridge_sandbox.slack.slack_api import apply_response
from bridge_sandbox.slack.state import SlackState

EVENTS_PATH = "/slack/events"


async def send_to_app(
    app_url: str,
    body: bytes,
    secret: str,
    retry_num: int | None = None,
    timestamp: int | None = None,
    *,
    retry_reason: str = "http_timeout",
    session: aiohttp.ClientSession | None = None,
) -> tuple[int, Any]:
    """POST a signed form body to the app's ``/slack/events``: (status, JSON or text or None)."""
    url = (
        app_url if app_url.rstrip("/").endswith(EVENTS_PATH) else app_url.rstrip("/") + EVENTS_PATH
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body, timestamp)}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    own = session is None
    http = session or aiohttp.ClientSession()
    try:
        async with http.post(url, data=body, headers=headers) as response:
            raw = await response.text()
            status = response.status
    finally:
        if own:
            await http.close()
    if not raw.strip():
        return status, None
    try:
        return status, json.loads(raw)
    except json.JSONDecodeError:
        return status, raw


def apply_view_ack(state: SlackState, view_id: str, ack: Any) -> None:
    """What Slack does with the app's answer to a view_submission."""
    view = state.views[view_id]
    action = ack.get("response_action") if isinstance(ack, dict) else None
    if action == "errors":
        state.view_errors[view_id] = dict(ack.get("errors") or {})
        return
    state.view_errors.pop(view_id, None)
    if action == "update":
        values = view["state"]["values"]
        store_view(
            state, ack["view"], view_id, view["root_view_id"], view["previous_view_id"], values
        )
    elif action == "push":
        new_id = state.new_view_id()
        store_view(state, ack["view"], new_id, view["root_view_id"], view_id, {})
    elif action == "clear":
        root = view["root_view_id"]
        state.closed_views.update(v for v, s in state.views.items() if s["root_view_id"] == root)
    else:  # an empty 200 closes the submitted view
        state.closed_views.add(view_id)


def apply_command_ack(state: SlackState, channel: str, user: str, ack: Any) -> None:
    """Slack shows a slash command's HTTP answer to the person (ephemeral unless in_channel)."""
    if isinstance(ack, str) and ack.strip():
        ack = {"text": ack}
    if isinstance(ack, dict) and (ack.get("text") or ack.get("blocks")):
        apply_response(state, ResponseTarget(channel, user), ack)


class SlackUser:
    """One person acting in the sandbox workspace against a running app."""

    def __init__(
        self,
        state: SlackState,
        app_url: str,
        secret: str,
        user: str = payloads.DEFAULT_USER,
        channel: str = payloads.DEFAULT_CHANNEL,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.state = state
        self.app_url = app_url
        self._secret = secret
        self.user = user
        self.channel = channel
        self.session = session

    def __repr__(self) -> str:  # the signing secret stays out of reprs
        return f"SlackUser(user={self.user!r}, app_url={self.app_url!r})"

    async def send(self, body: bytes, retry_num: int | None = None) -> tuple[int, Any]:
        return await send_to_app(self.app_url, body, self._secret, retry_num, session=self.session)

    async def slash(
        self, command: str, text: str = "", channel: str | None = None
    ) -> tuple[int, Any]:
        where = channel or self.channel
        body = payloads.slash_command(self.state, command, text, user=self.user, channel=where)
        status, ack = await self.send(body)
        if status == 200:
            apply_command_ack(self.state, where, self.user, ack)
        return status, ack

    async def shortcut(self, callback_id: str) -> tuple[int, Any]:
        return await self.send(payloads.global_shortcut(self.state, callback_id, user=self.user))

    async def message_shortcut(
        self, callback_id: str, message_ts: str, channel: str | None = None
    ) -> tuple[int, Any]:
        body = payloads.message_shortcut(
            self.state, callback_id, message_ts, channel=channel or self.channel, user=self.user
        )
        return await self.send(body)

    async def click(
        self, message_ts: str, action_id: str, channel: str | None = None, value: Any = None
    ) -> tuple[int, Any]:
        body = payloads.block_actions_message(
            self.state,
            message_ts,
            action_id,
            channel=channel or self.channel,
            user=self.user,
            value=value,
        )
        return await self.send(body)

    async def choose(self, view_id: str, action_id: str, value: Any) -> tuple[int, Any]:
        body = payloads.block_actions_view(self.state, view_id, action_id, value, user=self.user)
        return await self.send(body)

    async def submit(
        self, view_id: str, values: Mapping[str, Any] | None = None
    ) -> tuple[int, Any]:
        body = payloads.view_submission(self.state, view_id, values, user=self.user)
        status, ack = await self.send(body)
        if status == 200:
            apply_view_ack(self.state, view_id, ack)
        return status, ack

    async def cancel(self, view_id: str) -> tuple[int, Any]:
        return await self.send(payloads.view_closed(self.state, view_id, user=self.user))
