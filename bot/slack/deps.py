"""What listeners need, handed to them by closure at registration (no globals)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.send.service import SendService

if TYPE_CHECKING:
    from bot.paging.service import PagingService
    from bot.proving.phone_test import PhoneTests
from config import Settings


@dataclass
class Deps:
    settings: Settings
    service: SendService
    command: str = "/send"
    # Work after an ack runs a few at a time, so a burst of commands cannot crowd the event loop
    # and delay the acks Slack is waiting for (measured in bench/ack.py).
    after_ack_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    paging: PagingService | None = None  # set by the runtime once built
    phone_tests: PhoneTests | None = None  # /send test-me and /send test <person>
    # Called once ``/send unsilence`` ended a silence (``bot.alerts``: its groups' messages).
    silence_ended: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
