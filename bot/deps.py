"""What listeners need, handed to them by closure at registration (no globals)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.service import SendService
from config import Settings


@dataclass
class Deps:
    settings: Settings
    service: SendService
    command: str = "/send"
    clock: Callable[[], float] = field(default=time.time)
