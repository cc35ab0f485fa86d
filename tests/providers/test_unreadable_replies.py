"""Any bytes a provider answers become a typed error, never a crash (issue 7, section 3).

A 2xx whose body cannot be read (not UTF-8, or too long to read) came after the request went
out: the message may have gone, so it is ambiguous (``unknown``). A non-2xx whose body cannot be
read is still classified by its status. Bodies are read up to a cap, never buffered whole: the
emulator streams a 32 MiB body and counts what it managed to write before the client hung up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from bridge_sandbox.emulators.common import EmulatorState, Fault
from bridge_sandbox.emulators.suite import EmulatorSuite

from bot.accounts import open_accounts
from providers import AnyProviderConfig
from providers.base import (
    AmbiguousError,
    ErrorKind,
    Provider,
    ProviderError,
    ProviderServerError,
    Recipient,
    Route,
    SendResult,
)
from tests.bot.dispatch_kit import (
    KALEYRA,
    SMS,
    WABA,
    WHATSAPP,
    ak_config,
    emulators,
    kal_config,
    text,
    tnt_config,
)

__all__ = ["emulators"]

CHUNK = 256 * 1024
HUGE = 128  # chunks: 32 MiB, far more than any cap and than loopback socket buffers hold
NOT_UTF8 = b'{"id": "\xff\xfe\xfd", "message_id": "\xc3\x28", "data": {"message_id": "\xa0"}}'
HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body>"
    b"<h1>Bad Gateway \xe9\xff</h1></body></html>"
)


@dataclass
class Target:
    """One provider account's adapter, the route it sends on, and its emulator's state."""

    adapter: Provider
    route: Route
    state: EmulatorState

    async def send(self, to: str = "+254712345678") -> SendResult:
        address = "+919812345678" if self.route is KALEYRA else to
        return await self.adapter.send(self.route, text(), [Recipient(address=address, ref="r1")])


@pytest.fixture(params=["talkntalk", "autokonnect", "kaleyra"])
async def target(request: pytest.FixtureRequest, emulators: EmulatorSuite) -> AsyncIterator[Target]:
    name: str = request.param
    configs: dict[str, tuple[Callable[..., AnyProviderConfig], Route, EmulatorState]] = {
        "talkntalk": (tnt_config, SMS, emulators.talkntalk),
        "autokonnect": (ak_config, WABA, emulators.autokonnect),
        "kaleyra": (kal_config, KALEYRA, emulators.kaleyra),
    }
    make, route, state = configs[name]
    config = make(emulators.url(name), timeout_seconds=5)
    async with open_accounts({name: config}) as accounts:
        yield Target(accounts[name].provider, route, state)


async def finished_writing(fault: Fault) -> None:
    """Wait (generous deadline) until the emulator stopped writing the fault's body."""
    deadline = time.monotonic() + 10
    while not fault.finished:
        assert time.monotonic() < deadline, "the emulator is still writing the body"
        await asyncio.sleep(0.01)


async def test_a_success_reply_that_is_not_utf8_is_unknown(target: Target) -> None:
    target.state.inject(process=True, raw=NOT_UTF8, status=201)

    with pytest.raises(AmbiguousError) as err:
        await target.send()

    assert err.value.kind is ErrorKind.AMBIGUOUS
    assert "the provider's reply could not be read" in err.value.reason
    assert len(target.state.deliveries) == 1  # it did go out: unknown is the truth


async def test_an_html_502_with_bytes_its_charset_denies_is_an_error(target: Target) -> None:
    target.state.inject(raw=HTML_502, status=502, content_type="text/html; charset=utf-8")

    with pytest.raises(ProviderError) as err:
        await target.send()

    assert isinstance(err.value, ProviderServerError)  # a gateway's 502: it may have gone
    assert err.value.status == 502


async def test_a_huge_success_reply_is_unknown_and_not_read_whole(target: Target) -> None:
    fault = target.state.inject(process=True, raw=b" " * CHUNK, repeat=HUGE, status=200)

    with pytest.raises(AmbiguousError) as err:
        await target.send()

    assert "too long" in err.value.reason
    await finished_writing(fault)
    assert fault.written < CHUNK * HUGE, "the whole body was read"


async def test_a_huge_error_reply_is_classified_by_status_and_not_read_whole(
    target: Target,
) -> None:
    fault = target.state.inject(raw=b"<" * CHUNK, repeat=HUGE, status=503)

    with pytest.raises(ProviderServerError) as err:
        await target.send()

    assert err.value.status == 503
    await finished_writing(fault)
    assert fault.written < CHUNK * HUGE, "the whole body was read"


async def test_a_gateways_html_502_on_whatsapp_is_unknown_not_whatsapps_rejection(
    emulators: EmulatorSuite,
) -> None:
    # TalkNTalk documents its own 502 (a JSON answer) as "WhatsApp rejected the message"; a
    # proxy's HTML page in front of it says nothing of the kind, and the message may have gone.
    emulators.talkntalk.inject(raw=HTML_502, status=502, content_type="text/html; charset=utf-8")
    config = tnt_config(emulators.url("talkntalk"), timeout_seconds=5)
    async with open_accounts({"tnt": config}) as accounts:
        target = Target(accounts["tnt"].provider, WHATSAPP, emulators.talkntalk)
        with pytest.raises(ProviderError) as err:
            await target.send()

    assert isinstance(err.value, ProviderServerError)
    assert err.value.kind is ErrorKind.AMBIGUOUS
