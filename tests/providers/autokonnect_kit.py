"""Shared helpers for the AutoKonnect tests: the adapter wired to a live emulator on loopback.

No tests live here; the file name only follows the ``test_autokonnect*`` pattern of its siblings.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from bridge_sandbox.emulators.autokonnect import AutoKonnectState, create_app
from bridge_sandbox.emulators.common import RecordedRequest

from providers.autokonnect import AutoKonnect, AutoKonnectConfig
from providers.base import Message, Recipient, Route, SendResult, Service
from tests.conftest import StartApp

API_KEY = "ak-live-9f8e7d6c5b4a-SECRET"
ROUTE = Route(service=Service.WABA, waba_id="123")
PATH = "/api/v1/whatsapp/123/messages"


def to(*addresses: str) -> list[Recipient]:
    """Recipients with refs r0, r1, ... in order."""
    return [Recipient(address=a, ref=f"r{i}") for i, a in enumerate(addresses)]


@dataclass
class Harness:
    adapter: AutoKonnect
    state: AutoKonnectState
    url: str
    session: aiohttp.ClientSession

    async def send(
        self, message: Message, recipients: Sequence[Recipient], route: Route = ROUTE
    ) -> SendResult:
        return await self.adapter.send(route, message, recipients)

    def only_request(self) -> RecordedRequest:
        assert len(self.state.requests) == 1, self.state.requests
        return self.state.requests[0]

    async def post(
        self, body: Any, *, path: str = PATH, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """A raw request to the emulator, bypassing the adapter (for emulator strictness)."""
        sent = {"Authorization": f"Bearer {API_KEY}", **(headers or {})}
        kwargs: dict[str, Any] = {"json": body} if not isinstance(body, bytes) else {"data": body}
        async with self.session.post(self.url + path, headers=sent, **kwargs) as response:
            text = await response.text()
        try:
            return response.status, json.loads(text)
        except json.JSONDecodeError:
            return response.status, text


@asynccontextmanager
async def harness(
    start_app: StartApp, state: AutoKonnectState | None = None, **config: Any
) -> AsyncIterator[Harness]:
    """An emulator (key ``API_KEY``) and an adapter pointed at it, with its own session."""
    state = state or AutoKonnectState(api_key=API_KEY)
    server = await start_app(create_app(state))
    settings: dict[str, Any] = {"type": "autokonnect", "api_key": API_KEY, "base_url": server.url}
    settings.update(config)
    async with aiohttp.ClientSession() as session:
        adapter = AutoKonnect(AutoKonnectConfig.model_validate(settings), session)
        yield Harness(adapter, state, server.url, session)
