"""Shared set-up for the TalkNTalk tests: the emulator on loopback and an adapter pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.common import RecordedRequest
from bridge_sandbox.emulators.talkntalk import DEFAULT_SESSION, TalkNTalkState, create_app

from providers.base import Message, MessageType, Recipient, Route, SendResult, Service
from providers.talkntalk import TalkNTalk, TalkNTalkConfig
from tests.conftest import StartApp

# The doc's key is "tk_live_xxxx…"; ours is distinctive so a leak is easy to spot.
API_KEY = "tk_live_s3cr3tK3yThatMustNeverLeak0001"
SESSION = DEFAULT_SESSION  # "3fa85f64-5717-4562-b3fc-2c963f66afa6", the doc's session_id
NUMBER = "+254712345678"  # the doc's "254712345678", as the bridge normalises it
GROUP = "120363410923125768@g.us"  # the doc's group chat_id


SMS = Route(service=Service.SMS, sender_id="TALKNTALK")
WHATSAPP = Route(service=Service.WHATSAPP, session_id=SESSION)
WHATSAPP_GROUP = Route(service=Service.WHATSAPP_GROUP, session_id=SESSION)


@dataclass
class Harness:
    """The emulator's state, its URL, and an adapter talking to it over a real session."""

    state: TalkNTalkState
    url: str
    session: aiohttp.ClientSession
    adapter: TalkNTalk

    def make_adapter(self, **config: Any) -> TalkNTalk:
        settings: dict[str, Any] = {
            "type": "talkntalk",
            "api_key": API_KEY,
            "base_url": self.url,
            "timeout_seconds": 2.0,
            "connect_timeout_seconds": 1.0,
        }
        settings.update(config)
        return TalkNTalk(TalkNTalkConfig(**settings), self.session)

    async def send(
        self, route: Route, message: Message, to: str = NUMBER, *, ref: str = ""
    ) -> SendResult:
        return await self.adapter.send(route, message, [Recipient(address=to, ref=ref)])

    @property
    def last(self) -> RecordedRequest:
        assert self.state.requests, "the emulator recorded no request"
        return self.state.requests[-1]


def text(body: str = "Hello from TalkNTalk!") -> Message:
    return Message(type=MessageType.TEXT, text=body)


@pytest.fixture
async def tnt(start_app: StartApp) -> AsyncIterator[Harness]:
    state = TalkNTalkState(api_key=API_KEY)
    server = await start_app(create_app(state))
    async with aiohttp.ClientSession() as session:
        harness = Harness(state, server.url, session, None)  # type: ignore[arg-type]
        harness.adapter = harness.make_adapter()
        yield harness
