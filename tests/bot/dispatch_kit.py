"""Shared set-up for the dispatcher, policy and CLI tests: the three emulators on loopback,
account configs pointed at them with short timeouts, and a zero back-off retry policy.

Back-off is switched off through ``RetryPolicy(base_delay=0, ...)`` and the account's own
``timeout_seconds`` / ``rate_per_minute`` — configuration, never patching.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from bridge_sandbox.emulators.common import EmulatorState
from bridge_sandbox.emulators.suite import EmulatorSuite, start_suite
from bridge_sandbox.emulators.talkntalk import DEFAULT_SESSION

from bot.accounts import LOOP_CLOCK, Clock, open_accounts
from bot.dispatch import Dispatcher, RetryPolicy
from bot.values import Plan
from providers import AnyProviderConfig, AutoKonnectConfig, KaleyraConfig, TalkNTalkConfig
from providers.base import Message, MessageType, Outcome, OutcomeStatus, Recipient, Route, Service

REPO = Path(__file__).resolve().parents[2]

# Distinctive keys, so a leak into any output is easy to spot.
TNT_KEY = "tk_live_DISPATCH-tnt-key-must-never-print-0001"
AK_KEY = "ak_live_DISPATCH-ak-key-must-never-print-0002"
KAL_KEY = "Akal_DISPATCH-kal-key-must-never-print-0003"
KEYS = (TNT_KEY, AK_KEY, KAL_KEY)

KAL_SID = "HXAP16XXXXXX97IN"  # the doc's sample SID (the emulator's default)
KAL_FROM = "+919000000001"  # a business number the Kaleyra emulator knows
GROUP = "120363410923125768@g.us"  # the doc's group chat_id

SMS = Route(service=Service.SMS, sender_id="TALKNTALK")
WHATSAPP = Route(service=Service.WHATSAPP, session_id=DEFAULT_SESSION)
WHATSAPP_GROUP = Route(service=Service.WHATSAPP_GROUP, session_id=DEFAULT_SESSION)
WABA = Route(service=Service.WABA, waba_id="123")
KALEYRA = Route(service=Service.WHATSAPP, from_number=KAL_FROM)

# Retries without sleeping; a long Retry-After is anything over one second.
FAST = RetryPolicy(
    base_delay=0,
    max_attempts=3,
    max_rate_limited_attempts=4,
    default_retry_after=0.05,
    max_retry_after=1.0,
)

# Timeouts short enough for a hang test; a rate so high the limiter never paces a test.
QUICK: dict[str, Any] = {
    "timeout_seconds": 0.4,
    "connect_timeout_seconds": 0.4,
    "rate_per_minute": 600_000,
}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def numbers(count: int, start: int = 0) -> list[str]:
    """Distinct valid Kenyan mobile numbers in E.164."""
    return [f"+2547{n:08d}" for n in range(start, start + count)]


def text(body: str = "Hello from TalkNTalk!") -> Message:
    return Message(type=MessageType.TEXT, text=body)


def plan(
    account: str,
    route: Route,
    addresses: Sequence[str],
    message: Message | None = None,
    *,
    request_id: str = "RTEST0001",
) -> Plan:
    recipients = tuple(
        Recipient(address=a, ref=f"{request_id}-{i}") for i, a in enumerate(addresses, start=1)
    )
    return Plan(
        request_id=request_id,
        channel="test-channel",
        account=account,
        route=route,
        message=message or text(),
        recipients=recipients,
    )


def tnt_config(url: str, **overrides: Any) -> TalkNTalkConfig:
    return TalkNTalkConfig.model_validate(
        {"type": "talkntalk", "api_key": TNT_KEY, "base_url": url, **QUICK, **overrides}
    )


def ak_config(url: str, **overrides: Any) -> AutoKonnectConfig:
    return AutoKonnectConfig.model_validate(
        {"type": "autokonnect", "api_key": AK_KEY, "base_url": url, **QUICK, **overrides}
    )


def kal_config(url: str, **overrides: Any) -> KaleyraConfig:
    settings = {"type": "kaleyra", "api_key": KAL_KEY, "sid": KAL_SID, "base_url": url}
    return KaleyraConfig.model_validate({**settings, **QUICK, **overrides})


@pytest.fixture
async def emulators() -> AsyncIterator[EmulatorSuite]:
    """TalkNTalk, AutoKonnect and Kaleyra emulators on 127.0.0.1, port 0, with our keys."""
    suite = await start_suite(talkntalk_key=TNT_KEY, autokonnect_key=AK_KEY, kaleyra_key=KAL_KEY)
    try:
        yield suite
    finally:
        await suite.close()


@asynccontextmanager
async def dispatcher(
    configs: Mapping[str, AnyProviderConfig], *, clock: Clock = LOOP_CLOCK, **kwargs: Any
) -> AsyncIterator[Dispatcher]:
    """A Dispatcher over freshly opened accounts, with FAST retries unless told otherwise;
    ``clock`` is the accounts' limiter clock (the event loop's unless a test passes its own)."""
    kwargs.setdefault("retry", FAST)
    async with open_accounts(configs, clock=clock) as accounts:
        yield Dispatcher(accounts, **kwargs)


def by_status(outcomes: Sequence[Outcome]) -> dict[OutcomeStatus, int]:
    counts: dict[OutcomeStatus, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


def assert_one_outcome_each(plan_: Plan, outcomes: Sequence[Outcome]) -> None:
    """Every recipient of the plan has exactly one outcome, and nobody else has one."""
    refs = sorted(o.recipient.ref for o in outcomes)
    assert refs == sorted(r.ref for r in plan_.recipients)


@dataclass
class Sightings:
    """A Recorder that notes what the emulator had seen when each call arrived."""

    state: EmulatorState
    # (attempt, requests seen) per recipient: one write may start the attempts of several
    started: list[tuple[int, int]] = field(default_factory=list)
    recorded: dict[str, Outcome] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)  # people a provider queued (AutoKonnect)

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        self.started.extend((attempt, len(self.state.requests)) for _ in recipients)

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            self.recorded[outcome.recipient.ref] = outcome

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None:
        self.accepted[request_id] = self.accepted.get(request_id, 0) + recipients_count


@dataclass
class InFlight:
    """Server middleware counting requests in flight at the emulator (the peak is the bound)."""

    now: int = 0
    peak: int = 0

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await handler(request)
        finally:
            self.now -= 1
