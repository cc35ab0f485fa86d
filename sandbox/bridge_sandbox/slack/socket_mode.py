"""The sandbox Slack's Socket Mode side: WebSocket URLs, the ``hello``, envelopes and their acks.

Why: ``python -m bot socket`` must be driven end to end with no network, through slack_sdk's own
client. That client calls ``apps.connections.open`` with the app token (``methods.py``), opens a
WebSocket to the URL it gets back (``GET /socket?ticket=…`` on the sandbox server, served here),
waits for ``hello``, then answers every envelope with ``{"envelope_id", "payload"?}``. A test
pushes envelopes with ``await state.socket_send(type, payload)`` and reads ``state.socket_acks``.
Frame shapes follow ``tests/fixtures/slack-payloads/socket_mode_*.json``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

SOCKET_PATH = "/socket"
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")


@dataclass
class SocketAck:
    """One frame the app sent back: the envelope it answers, its payload, and how long it took."""

    envelope_id: str
    payload: dict[str, Any] | None
    at: float  # time.monotonic() when it arrived
    latency: float | None  # seconds from the push of that envelope; None if never pushed


@dataclass
class SocketHub:
    """Tickets handed out, connections open, envelopes pushed and the acks that came back."""

    tickets: set[str] = field(default_factory=set)
    connections: list[web.WebSocketResponse] = field(default_factory=list)
    opened: int = 0  # connections ever accepted (a reconnect makes it 2)
    acks: list[SocketAck] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)  # frames that were not acks
    pushed: list[dict[str, Any]] = field(default_factory=list)
    _waiting: dict[str, list[float]] = field(default_factory=dict)

    def issue_url(self, base_url: str, app_id: str) -> str:
        """A single-use ``ws://`` URL, as Slack's ``wss://…/link/?ticket=…&app_id=…``."""
        ticket = secrets.token_urlsafe(18)
        self.tickets.add(ticket)
        ws_base = "ws://" + base_url.removeprefix("http://").rstrip("/")
        return f"{ws_base}{SOCKET_PATH}?ticket={ticket}&app_id={app_id}"

    def redeem(self, ticket: str) -> bool:
        if ticket not in self.tickets:
            return False
        self.tickets.discard(ticket)
        return True

    def receive(self, raw: str) -> None:
        """Record what the app sent: an ack (with its latency) or a stray frame."""
        now = time.monotonic()
        try:
            frame = json.loads(raw)
        except json.JSONDecodeError:
            self.stray.append(raw)
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("envelope_id"), str):
            self.stray.append(raw)
            return
        envelope_id = frame["envelope_id"]
        pushes = self._waiting.get(envelope_id)
        latency = now - pushes.pop(0) if pushes else None
        payload = frame.get("payload")
        self.acks.append(
            SocketAck(envelope_id, payload if isinstance(payload, dict) else None, now, latency)
        )

    async def connection(self, timeout: float) -> web.WebSocketResponse:  # noqa: ASYNC109
        """The newest open connection, waiting up to ``timeout`` seconds for the app to connect."""
        deadline = time.monotonic() + timeout
        while True:
            live = [ws for ws in self.connections if not ws.closed]
            if live:
                return live[-1]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no Socket Mode connection within {timeout:g} s")
            await asyncio.sleep(0.01)

    async def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        accepts_response_payload: bool | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the app to connect
    ) -> str:
        """Push one envelope to the app; its envelope_id. Pass an id again to redeliver it."""
        if kind not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {kind!r}; one of {ENVELOPE_TYPES}")
        ws = await self.connection(timeout)
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:  # Slack: commands and modal submissions may answer
            accepts_response_payload = kind == "slash_commands" or (
                payload.get("type") == "view_submission"
            )
        frame: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "payload": payload,
        }
        if retry_attempt is not None:
            frame["retry_attempt"] = retry_attempt
            frame["retry_reason"] = retry_reason or "timeout"
        self._waiting.setdefault(envelope_id, []).append(time.monotonic())
        self.pushed.append(frame)
        await ws.send_json(frame)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:  # noqa: ASYNC109
        """The ack of the latest delivery of ``envelope_id`` (a redelivery gets its own ack)."""
        deliveries = max(1, sum(1 for f in self.pushed if f["envelope_id"] == envelope_id))
        deadline = time.monotonic() + timeout
        while True:
            acks = [a for a in self.acks if a.envelope_id == envelope_id]
            if len(acks) >= deliveries:
                return acks[deliveries - 1]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout:g} s")
            await asyncio.sleep(0.01)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does before recycling a connection."""
        ws = await self.connection(0)
        await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": _DEBUG})

    async def close_all(self) -> None:
        for ws in list(self.connections):
            await ws.close()


_DEBUG = {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060}


def hello(app_id: str, connections: int) -> dict[str, Any]:
    return {
        "type": "hello",
        "num_connections": connections,
        "debug_info": _DEBUG,
        "connection_info": {"app_id": app_id},
    }


async def serve_socket(request: web.Request, hub: SocketHub, app_id: str) -> web.StreamResponse:
    """``GET /socket?ticket=…``: upgrade, say hello, record every frame the app sends back."""
    if not hub.redeem(request.query.get("ticket", "")):
        return web.Response(status=401, text="invalid or already used ticket")
    ws = web.WebSocketResponse(autoping=True)  # answers the client's pings with pongs
    await ws.prepare(request)
    hub.connections.append(ws)
    hub.opened += 1
    try:
        await ws.send_json(hello(app_id, len([c for c in hub.connections if not c.closed])))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                hub.receive(msg.data)
    finally:
        hub.connections.remove(ws)
    return ws


def envelope_payload(body: bytes) -> dict[str, Any]:
    """What ``payloads.*`` builds for HTTP, as the ``payload`` of a Socket Mode envelope.

    Slash commands arrive as form fields over HTTP and as an object of those fields over the
    socket; everything else is ``payload=<JSON>`` over HTTP and that JSON object over the socket.
    """
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if set(fields) == {"payload"}:
        obj = json.loads(fields["payload"])
        if not isinstance(obj, dict):
            raise ValueError("payload is not a JSON object")
        return obj
    return fields
