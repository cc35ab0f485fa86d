"""What the loopback Slack remembers: API calls, messages, ephemerals, views, response_url posts.

Why: end-to-end tests and ``python -m bot demo`` need to ask "what would a person see in Slack
now?" without a network. The server in ``slack_api.py`` writes here; tests read and await it.
Ids and timestamps are deterministic (a counter from 2026-01-01 UTC) so demo output is stable.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bridge_sandbox.slack.records import (
    ApiCall,
    Ephemeral,
    Failure,
    MessageEdit,
    PostedMessage,
    ResponsePost,
    ResponseTarget,
    Trigger,
)
from bridge_sandbox.slack.socket_mode import SocketAck, SocketHub

T = TypeVar("T")

__all__ = [
    "ApiCall",
    "Ephemeral",
    "Failure",
    "MessageEdit",
    "PostedMessage",
    "ResponsePost",
    "ResponseTarget",
    "SlackState",
    "Trigger",
]

EPOCH = 1767225600  # 2026-01-01T00:00:00Z: first ts is "1767225600.000100"
TRIGGER_TTL = 3.0  # seconds; Slack: "trigger_id ... expires after 3 s"
DEFAULT_SCOPES = (
    "chat:write",
    "chat:write.public",
    "commands",
    "usergroups:read",
    "users:read",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
)


@dataclass
class SlackState:
    """Everything a test may set or read about the sandbox Slack workspace."""

    bot_token: str = "xoxb-sandbox-0000000000-token"
    app_token: str = "xapp-1-A0CHATOPS1-0000000000-sandbox"  # Socket Mode (apps.connections.open)
    # Per-token answers: a token refused with this error by every method (revoked, inactive…),
    # and tokens auth.test accepts as a person's (no bot_id), as Slack answers a user token.
    token_errors: dict[str, str] = field(default_factory=dict)
    user_tokens: set[str] = field(default_factory=set)
    team_id: str = "T0ACME0001"
    team_domain: str = "acme-ops"
    team_name: str = "Acme Ops"
    app_id: str = "A0CHATOPS1"
    bot_id: str = "B0CHATOPS1"
    bot_user_id: str = "U0CHATOPS0"
    bot_name: str = "chatops-bridge"
    base_url: str | None = None  # the served sandbox, e.g. "http://127.0.0.1:5xxxx"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    missing_scopes: set[str] = field(default_factory=set)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, str] = field(
        default_factory=lambda: {
            "U0ALICE001": "alice",
            "U0BOB00002": "bob",
            "U0CAROL003": "carol",
        }
    )
    channels: dict[str, str] = field(default_factory=lambda: {"C0INCIDENT": "ops-incidents"})
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[str, list[PostedMessage]] = field(default_factory=dict)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    responses: list[ResponsePost] = field(default_factory=list)
    response_targets: dict[str, ResponseTarget] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    view_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    closed_views: set[str] = field(default_factory=set)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)  # method (or "*") -> seconds
    holds: dict[str, asyncio.Event] = field(default_factory=dict)  # method -> released when set
    # method -> released when set; the call is applied first, only its answer waits
    reply_holds: dict[str, asyncio.Event] = field(default_factory=dict)
    failures: deque[Failure] = field(default_factory=deque)
    trigger_ttl: float = TRIGGER_TTL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # how per-method latency waits
    socket: SocketHub = field(default_factory=SocketHub)
    _counter: int = 0
    _view_order: list[str] = field(default_factory=list)

    # --- ids --------------------------------------------------------------------------------

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def next_ts(self) -> str:
        """A unique, increasing message ts: one second and 100 µs later than the last."""
        n = self._next()
        return f"{EPOCH + n - 1}.{(n * 100) % 1_000_000:06d}"

    def new_view_id(self) -> str:
        return f"V0SBX{self._next():06d}"

    def new_hash(self) -> str:
        return f"{EPOCH + self._next()}.{secrets.token_hex(4)}"

    def issue_trigger(self, user: str | None = None, view_id: str | None = None) -> str:
        """A trigger_id as Slack puts in an interaction: single use, valid for ``trigger_ttl``."""
        n = self._next()
        tid = f"77{n:011d}.7700000000002.{secrets.token_hex(16)}"
        self.triggers[tid] = Trigger(tid, self.clock(), user, view_id)
        return tid

    def use_trigger(self, trigger_id: str) -> tuple[Trigger | None, str | None]:
        """Exchange a trigger: (trigger, None) or (None, the Slack error)."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            return None, "invalid_trigger_id"
        if trigger.used:
            return None, "exchanged_trigger_id"
        if self.clock() - trigger.issued_at > self.trigger_ttl:
            return None, "expired_trigger_id"
        trigger.used = True
        return trigger, None

    def new_response_url(
        self,
        base: str,
        kind: str = "commands",
        *,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """A response_url on the sandbox; posts to it land where Slack would put them."""
        n = self._next()
        token = secrets.token_urlsafe(18)
        self.response_targets[token] = ResponseTarget(channel, user, message_ts, thread_ts)
        return f"{base.rstrip('/')}/hooks/{kind}/{self.team_id}/77{n:011d}/{token}"

    # --- Socket Mode (see socket_mode.py) ------------------------------------------------------

    @property
    def socket_acks(self) -> list[SocketAck]:
        """Every ack frame the app sent back over the socket, with its latency from the push."""
        return self.socket.acks

    async def socket_send(self, kind: str, payload: dict[str, Any], **options: Any) -> str:
        """Push an envelope (``slash_commands``, ``interactive``, ``events_api``); its id."""
        return await self.socket.send(kind, payload, **options)

    # --- faults -----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: float | None = 1,
        times: int = 1,
    ) -> Failure:
        """Answer the next ``times`` calls of ``method`` with ``error`` (429 + Retry-After)."""
        failure = Failure(method, error, status, retry_after, times)
        self.failures.append(failure)
        return failure

    def take_failure(self, method: str) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.times > 0:
                failure.times -= 1
                if failure.times == 0:
                    self.failures.remove(failure)
                return failure
        return None

    def hold(self, method: str) -> asyncio.Event:
        """Keep every call of ``method`` waiting until the returned event is set: a Slack as slow
        as a test needs, with no wall-clock sleep (``release`` or ``event.set()`` lets them go)."""
        return self.holds.setdefault(method, asyncio.Event())

    def release(self, method: str) -> None:
        held = self.holds.pop(method, None)
        if held is not None:
            held.set()

    def hold_reply(self, method: str) -> asyncio.Event:
        """Apply every call of ``method`` but keep its answer until the event is set: a fault
        between Slack doing something and the app learning it did (a crash in that window)."""
        return self.reply_holds.setdefault(method, asyncio.Event())

    def release_reply(self, method: str) -> None:
        held = self.reply_holds.pop(method, None)
        if held is not None:
            held.set()

    def set_latency(self, method: str, seconds: float) -> None:
        """Delay every call of ``method`` ("*" for all) by ``seconds``."""
        self.latency[method] = seconds

    # --- messages and views -----------------------------------------------------------------

    def post(
        self,
        channel: str,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        *,
        thread_ts: str | None = None,
        user: str | None = None,
        reply_broadcast: bool = False,
    ) -> PostedMessage:
        """Add a message; ``user=None`` is the bot, a user id seeds what a person wrote."""
        msg = PostedMessage(
            channel,
            self.next_ts(),
            text,
            list(blocks or []),
            thread_ts,
            user,
            self.bot_id if user is None else None,
            reply_broadcast,
        )
        self.messages.setdefault(channel, []).append(msg)
        return msg

    def find_message(self, channel: str, ts: str) -> PostedMessage | None:
        for msg in self.messages.get(channel, []):
            if msg.ts == ts and not msg.deleted:
                return msg
        return None

    def thread(self, channel: str, ts: str) -> list[PostedMessage]:
        """The root (when present) and its replies, oldest first."""
        return [
            m
            for m in self.messages.get(channel, [])
            if not m.deleted and (m.ts == ts or m.thread_ts == ts)
        ]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def remember_view(self, view: dict[str, Any]) -> None:
        self.views[view["id"]] = view
        self.closed_views.discard(view["id"])
        if view["id"] in self._view_order:
            self._view_order.remove(view["id"])
        self._view_order.append(view["id"])

    def last_view(self) -> dict[str, Any] | None:
        """The view most recently opened, pushed or updated."""
        return self.views[self._view_order[-1]] if self._view_order else None

    def view_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        for view in self.views.values():
            if external_id and view.get("external_id") == external_id:
                return view
        return None

    async def wait_for(
        self,
        predicate: Callable[[SlackState], T | None],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for polling, not for one awaited call
        interval: float = 0.01,
    ) -> T:
        """Poll until ``predicate(state)`` is truthy and return its value; TimeoutError if not."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"sandbox Slack: condition not met within {timeout:g} s")
            await asyncio.sleep(interval)

    async def wait_for_message(
        self,
        channel: str,
        containing: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - see wait_for
    ) -> PostedMessage:
        """Wait for a message in ``channel`` whose text or blocks contain ``containing``."""

        def match(state: SlackState) -> PostedMessage | None:
            for msg in state.messages.get(channel, []):
                if not msg.deleted and (containing in msg.text or containing in repr(msg.blocks)):
                    return msg
            return None

        return await self.wait_for(match, timeout)
