"""Transport failures through the TalkNTalk adapter, and the promise that the key never leaks."""

from __future__ import annotations

import logging
import socket

import pytest
from bridge_sandbox.emulators.common import Fault

from providers.base import (
    ConnectFailed,
    ConnectionDropped,
    ErrorKind,
    ProviderError,
    ProviderServerError,
    ProviderTimeout,
    Route,
    Service,
)
from tests.providers.talkntalk_kit import (
    API_KEY,
    GROUP,
    SMS,
    WHATSAPP,
    WHATSAPP_GROUP,
    Harness,
    text,
    tnt,
)

__all__ = ["tnt"]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_connect_failed_and_retryable(tnt: Harness) -> None:
    tnt.adapter = tnt.make_adapter(base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ConnectFailed) as err:
        await tnt.send(SMS, text())
    assert err.value.kind is ErrorKind.RETRYABLE
    assert "nothing was sent" in err.value.reason


async def test_hang_past_the_timeout_is_provider_timeout_and_ambiguous(tnt: Harness) -> None:
    tnt.adapter = tnt.make_adapter(timeout_seconds=0.3)
    tnt.state.inject(hang=True)
    with pytest.raises(ProviderTimeout) as err:
        await tnt.send(WHATSAPP, text())
    assert err.value.kind is ErrorKind.AMBIGUOUS
    assert len(tnt.state.requests) == 1  # it did leave


@pytest.mark.parametrize("process", [False, True], ids=["before", "after-accepting"])
async def test_dropped_connection_is_connection_dropped_and_ambiguous(
    tnt: Harness, process: bool
) -> None:
    tnt.state.inject(drop=True, process=process)
    with pytest.raises(ConnectionDropped) as err:
        await tnt.send(SMS, text())
    assert err.value.kind is ErrorKind.AMBIGUOUS
    # process=True: the phone got it although we saw no answer — why it must not be retried.
    # And exactly once: aiohttp does not silently re-POST on the dropped connection.
    assert len(tnt.state.deliveries) == (1 if process else 0)
    assert len(tnt.state.requests) == 1


async def test_drop_on_a_reused_keepalive_connection_is_still_one_attempt(tnt: Harness) -> None:
    await tnt.send(SMS, text())  # leaves a pooled keep-alive connection behind
    tnt.state.inject(drop=True, process=True)
    with pytest.raises(ConnectionDropped):
        await tnt.send(SMS, text())
    assert len(tnt.state.requests) == 2
    assert len(tnt.state.deliveries) == 2
    await tnt.send(SMS, text())  # and the session recovers for the next call
    assert len(tnt.state.deliveries) == 3


@pytest.mark.parametrize("process", [False, True])
async def test_500_is_ambiguous_whether_or_not_it_was_processed(
    tnt: Harness, process: bool
) -> None:
    tnt.state.inject(status=500, process=process)
    with pytest.raises(ProviderServerError) as err:
        await tnt.send(WHATSAPP_GROUP, text(), GROUP)
    assert (err.value.status, err.value.kind) == (500, ErrorKind.AMBIGUOUS)
    assert len(tnt.state.deliveries) == (1 if process else 0)


# --- the API key never appears ------------------------------------------------------------------


async def test_api_key_never_appears_in_reprs_errors_or_logs(
    tnt: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = tnt.adapter
    config = adapter._config
    seen = [repr(adapter), str(adapter), repr(config), str(config), repr(config.api_key)]
    errors: list[ProviderError] = []
    await tnt.send(SMS, text())
    tnt.state.inject(status=201, body={})  # logs a warning about the missing id
    await tnt.send(SMS, text())
    faults = [
        Fault(status=400, body={"detail": f"bad key {API_KEY} echoed back"}),
        Fault(status=401, body={"code": "authentication_failed"}),
        Fault(status=402, body={"code": "insufficient_balance"}),
        Fault(status=429, headers={"Retry-After": "1"}),
        Fault(status=500),
        Fault(drop=True),
    ]
    for fault in faults:
        tnt.state.inject(fault)
        with pytest.raises(ProviderError) as err:
            await tnt.send(SMS, text())
        errors.append(err.value)
    tnt.adapter = tnt.make_adapter(base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ConnectFailed) as refused:
        await tnt.send(Route(service=Service.WHATSAPP, session_id="s"), text())
    errors.append(refused.value)
    for e in errors:
        seen += [str(e), repr(e), e.reason, repr(e.args)]
    seen.append(caplog.text)
    assert "***" in errors[0].reason  # the echoed key was redacted, the rest kept
    for text_seen in seen:
        assert API_KEY not in text_seen
    # ... but the key did go where it belongs.
    assert tnt.state.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
    assert any(r.levelno == logging.WARNING for r in caplog.records)
