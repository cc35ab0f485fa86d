"""The records the sandbox Slack keeps: API calls, messages, ephemerals, response_url posts.

Why: kept apart from ``SlackState`` so tests can import and type them without the state's logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiCall:
    """One Web API request as received; the token is never recorded."""

    method: str
    args: dict[str, Any]
    at: float
    error: str | None = None  # the Slack error answered, None when ok


@dataclass
class MessageEdit:
    """A previous version of a message, kept when ``chat.update`` or replace_original changes it."""

    text: str
    blocks: list[dict[str, Any]]
    at: float


@dataclass
class PostedMessage:
    """A message in a channel, updated in place; ``history`` holds what it said before."""

    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    user: str | None = None  # a person's id; None for the bot
    bot_id: str | None = None
    reply_broadcast: bool = False
    deleted: bool = False
    history: list[MessageEdit] = field(default_factory=list)
    metadata: dict[str, Any] | None = None  # chat.postMessage ``metadata`` (event_type, payload)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def edit(self, text: str | None, blocks: list[dict[str, Any]] | None, at: float) -> None:
        self.history.append(MessageEdit(self.text, list(self.blocks), at))
        if text is not None:
            self.text = text
        if blocks is not None:
            self.blocks = blocks

    def to_api(self, team_id: str, app_id: str) -> dict[str, Any]:
        """The message object as Slack returns it from the Web API and in payloads."""
        msg: dict[str, Any] = {"type": "message", "text": self.text, "ts": self.ts}
        if self.user is None:
            msg.update(subtype="bot_message", bot_id=self.bot_id, app_id=app_id)
        else:
            msg.update(user=self.user, team=team_id)
        if self.blocks:
            msg["blocks"] = self.blocks
        if self.thread_ts is not None:
            msg["thread_ts"] = self.thread_ts
        return msg


@dataclass
class Ephemeral:
    """A message only ``user`` sees; gone on reload in real Slack, kept here for assertions."""

    channel: str
    user: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    via: str = "api"  # "api" (chat.postEphemeral) or "response_url"
    deleted: bool = False


@dataclass
class ResponsePost:
    """One JSON body the app posted to a response_url."""

    url: str
    kind: str  # "commands", "actions" or "app"
    body: dict[str, Any]
    at: float


@dataclass
class ResponseTarget:
    """Where a response_url's posts land: the channel, the person, and the message acted on."""

    channel: str | None
    user: str | None
    message_ts: str | None = None
    thread_ts: str | None = None
    ephemerals: list[Ephemeral] = field(default_factory=list)


@dataclass
class Trigger:
    id: str
    issued_at: float
    user: str | None = None
    view_id: str | None = None  # the modal the interaction came from (for views.push)
    used: bool = False


@dataclass
class Failure:
    """An injected Web API error for the next ``times`` calls of ``method``."""

    method: str
    error: str
    status: int
    retry_after: float | None
    times: int = 1
