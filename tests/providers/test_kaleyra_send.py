"""Kaleyra adapter against its emulator over loopback: the doc's request, every error, transport."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.kaleyra import WA400, WA500, KaleyraState, create_app

from providers.base import (
    AuthFailed,
    ConnectFailed,
    ConnectionDropped,
    ErrorKind,
    InsufficientBalance,
    Message,
    OutcomeStatus,
    ProviderError,
    ProviderServerError,
    ProviderTimeout,
    RateLimited,
    Recipient,
    RequestRejected,
    Route,
    Service,
)
from providers.kaleyra import Kaleyra, KaleyraConfig

# Workaround until common.serve passes shutdown_timeout to AppRunner (aiohttp 3.14 deprecation).
pytestmark = pytest.mark.filterwarnings("ignore:shutdown_timeout should be set on BaseRunner")

SID = "HXAP16XXXXXX97IN"
KEY = "Akaleyra0secret0key0for0tests0003"
BUSINESS = "+919000000001"
TO = "+919812345678"
ROUTE = Route(service=Service.WHATSAPP, from_number=BUSINESS)
HELLO = Message(text="This is the sample message")


@dataclass
class Kal:
    state: KaleyraState
    url: str
    session: aiohttp.ClientSession
    adapter: Kaleyra

    def with_config(self, **overrides: Any) -> Kaleyra:
        fields: dict[str, Any] = {"type": "kaleyra", "api_key": KEY, "sid": SID}
        fields["base_url"] = self.url
        fields.update(overrides)
        return Kaleyra(KaleyraConfig(**fields), self.session)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def kal(start_app: Any, session: aiohttp.ClientSession) -> Kal:
    state = KaleyraState(api_key=KEY)
    server = await start_app(create_app(state))
    config = KaleyraConfig(type="kaleyra", api_key=KEY, sid=SID, base_url=server.url)
    return Kal(state, server.url, session, Kaleyra(config, session))


async def send_error(adapter: Kaleyra, route: Route = ROUTE) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await adapter.send(route, HELLO, [Recipient(address=TO, ref="r1")])
    return caught.value


async def test_doc_sample_request_is_sent_field_by_field(kal: Kal) -> None:
    # Sample Request: POST https://api.in.kaleyra.io/v2/HXAP16XXXXXX97IN/whatsapp/+91XXXXXXXXXX/
    # messages, -H 'Content-Type: application/json' -H 'api-key: Axxx…3', "body": "This is the
    # sample message", "ref": "customer1", "wa_source": "api".
    result = await kal.adapter.send(ROUTE, HELLO, [Recipient(address=TO, ref="customer1")])

    [sent] = kal.state.requests
    assert sent.method == "POST"
    assert sent.path == f"/v2/{SID}/whatsapp/{BUSINESS}/messages"
    assert sent.headers["api-key"] == KEY
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.body == {
        "messaging_object": {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": TO,  # the sample's "+91XXXXXXXXXX" form, not the table's "91XXXXXXXXXX"
            "type": "text",
            # Table: preview_url is Boolean (the sample's "false" is a string): a JSON boolean.
            "text": {"preview_url": False, "body": "This is the sample message"},
        },
        "extra_info": {"ref": "customer1", "wa_source": "api"},
    }
    [outcome] = result.outcomes
    [delivery] = kal.state.deliveries
    assert outcome.status is OutcomeStatus.SENT
    assert outcome.recipient == Recipient(address=TO, ref="customer1")
    assert outcome.provider_message_id == delivery.message_id
    assert re.fullmatch(r"A[A-Z0-9]{19}", outcome.provider_message_id or "")
    assert delivery.recipient == TO
    assert delivery.payload["extra_info"]["ref"] == "customer1"


async def test_send_omits_empty_ref_and_sends_preview_url_true_as_boolean(kal: Kal) -> None:
    message = Message(text="see https://status.example.com", preview_url=True)
    await kal.adapter.send(ROUTE, message, [Recipient(address=TO)])

    body = kal.state.requests[0].body
    assert body["extra_info"] == {"wa_source": "api"}
    assert body["messaging_object"]["text"]["preview_url"] is True


async def test_send_reads_message_id_from_the_docs_literal_invalid_json_success_body(
    kal: Kal,
) -> None:
    # 202 Accepted { "code":"WA202" "message":"Request Accepted", ... } — commas missing in the doc.
    kal.state.literal_sample_body = True
    result = await kal.adapter.send(ROUTE, HELLO, [Recipient(address=TO)])

    assert result.outcomes[0].status is OutcomeStatus.SENT
    assert result.outcomes[0].provider_message_id == kal.state.deliveries[0].message_id


@pytest.mark.parametrize(
    ("overrides", "code", "words"),
    [
        ({"api_key": "Awrong0key"}, "RBC001", "check the Kaleyra sid"),
        ({"sid": "HXAP16XXXXXX00IN"}, "RBC001", "api key"),
    ],
)
async def test_send_maps_401_rbc001_to_auth_failed(
    kal: Kal, overrides: dict[str, str], code: str, words: str
) -> None:
    # 401 Unauthorized {"code": "RBC001", "message": "Incorrect SID or API key.", ...}
    error = await send_error(kal.with_config(**overrides))

    assert isinstance(error, AuthFailed)
    assert (error.kind, error.code, error.status) == (ErrorKind.PERMANENT, code, 401)
    assert words in error.reason
    assert not kal.state.deliveries


async def test_send_maps_401_wa401_to_business_number_not_on_account(kal: Kal) -> None:
    # 401 {"code": "WA401", "message": "Phone number is not present or does not belong to ..."}
    route = Route(service=Service.WHATSAPP, from_number="+919000000099")
    error = await send_error(kal.adapter, route)

    assert isinstance(error, AuthFailed)
    assert (error.code, error.status) == ("WA401", 401)
    assert "business number in `from` is not on this Kaleyra account" in error.reason


async def test_send_maps_400_e110_to_insufficient_balance(kal: Kal) -> None:
    # 400 Low balance {"code": "E110", "message": "Please check your balance, You have a low ..."}
    kal.state.low_balance = True
    error = await send_error(kal.adapter)

    assert isinstance(error, InsufficientBalance)
    assert (error.kind, error.code, error.status) == (ErrorKind.PERMANENT, "E110", 400)
    assert "balance too low — top up the Kaleyra account" in error.reason
    assert not kal.state.deliveries


async def test_send_tells_the_two_wa_dash_401_errors_apart(kal: Kal) -> None:
    # 401 Unauthorised Account type: "API is not available for given customer..."
    kal.state.account_disabled = True
    account = await send_error(kal.adapter)
    # 401 Unauthorized phone number version: "...associated with different Version of our WA API"
    kal.state.account_disabled = False
    kal.state.v1_numbers = {BUSINESS}
    version = await send_error(kal.adapter)

    for error in (account, version):
        assert isinstance(error, AuthFailed)
        assert (error.kind, error.code, error.status) == (ErrorKind.PERMANENT, "WA-401", 401)
    assert "not enabled for this Kaleyra account" in account.reason
    assert "different version of Kaleyra's WhatsApp API" in version.reason


async def test_send_tells_wa_dash_401_apart_by_error_key_without_message(kal: Kal) -> None:
    kal.state.inject(status=401, body={"code": "WA-401", "error": {"account": "no"}})
    kal.state.inject(status=401, body={"code": "WA-401", "error": {"phone_number": "no"}})

    assert "not enabled" in (await send_error(kal.adapter)).reason
    assert "different version" in (await send_error(kal.adapter)).reason


async def test_send_maps_400_wa400_to_request_rejected(kal: Kal) -> None:
    # 400 Incorrect payload {"code": "WA400", "message": "Refer to correct payload format", ...}
    kal.state.inject(status=400, body=WA400)
    error = await send_error(kal.adapter)

    assert isinstance(error, RequestRejected)
    assert (error.kind, error.code, error.status) == (ErrorKind.PERMANENT, "WA400", 400)
    assert "payload format" in error.reason


async def test_send_maps_500_wa500_to_ambiguous_server_error(kal: Kal) -> None:
    # 500 Internal Server Error {"code": "WA500", "message": "Please try again later", ...}
    kal.state.inject(status=500, body=WA500)
    error = await send_error(kal.adapter)

    assert isinstance(error, ProviderServerError)
    assert (error.kind, error.code, error.status) == (ErrorKind.AMBIGUOUS, "WA500", 500)
    assert "may or may not have gone out" in error.reason


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "E110", "message": "low balance"}},
        {"error": "E110"},
        {"code": "E110", "message": "low", "data": {}, "error": {}},
    ],
)
async def test_send_reads_the_error_code_from_several_body_shapes(
    kal: Kal, body: dict[str, Any]
) -> None:
    kal.state.inject(status=400, body=body)
    error = await send_error(kal.adapter)

    assert isinstance(error, InsufficientBalance)
    assert error.code == "E110"


async def test_send_maps_an_undocumented_400_without_code_by_status(kal: Kal) -> None:
    kal.state.inject(status=400, body="not an object")
    error = await send_error(kal.adapter)

    assert isinstance(error, RequestRejected)
    assert (error.code, error.status) == (None, 400)


async def test_send_to_a_closed_port_is_connect_failed_and_retryable(kal: Kal) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = await send_error(kal.with_config(base_url=f"http://127.0.0.1:{port}"))

    assert isinstance(error, ConnectFailed)
    assert error.kind is ErrorKind.RETRYABLE


async def test_send_that_hangs_past_the_timeout_is_an_ambiguous_timeout(kal: Kal) -> None:
    kal.state.inject(hang=True)
    error = await send_error(kal.with_config(timeout_seconds=0.3))

    assert isinstance(error, ProviderTimeout)
    assert error.kind is ErrorKind.AMBIGUOUS


@pytest.mark.parametrize("process", [False, True])
async def test_send_dropped_connection_is_ambiguous(kal: Kal, process: bool) -> None:
    kal.state.inject(drop=True, process=process)
    error = await send_error(kal.adapter)

    assert isinstance(error, ConnectionDropped)
    assert error.kind is ErrorKind.AMBIGUOUS
    # With process=True the phone got it: exactly why a drop is never retried on its own.
    assert len(kal.state.deliveries) == (1 if process else 0)


async def test_send_maps_a_bare_500_to_ambiguous(kal: Kal) -> None:
    kal.state.inject(status=500)
    error = await send_error(kal.adapter)

    assert isinstance(error, ProviderServerError)
    assert error.kind is ErrorKind.AMBIGUOUS


async def test_send_maps_429_to_rate_limited_with_retry_after(kal: Kal) -> None:
    kal.state.rate_limit, kal.state.retry_after = 1, 7
    await kal.adapter.send(ROUTE, HELLO, [Recipient(address=TO)])
    error = await send_error(kal.adapter)
    kal.state.inject(status=429, headers={"Retry-After": "3"})
    kal.state.rate_limit = None
    injected = await send_error(kal.adapter)

    assert isinstance(error, RateLimited)
    assert (error.kind, error.status, error.retry_after) == (ErrorKind.RETRYABLE, 429, 7.0)
    assert isinstance(injected, RateLimited)
    assert injected.retry_after == 3.0


async def test_api_key_never_appears_in_reprs_errors_or_logs(
    kal: Kal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kal.state.literal_sample_body = True
    await kal.adapter.send(ROUTE, HELLO, [Recipient(address=TO)])
    kal.state.literal_sample_body = False
    kal.state.inject(status=202, body={"code": "WA202"})  # accepted, but no message_id
    await kal.adapter.send(ROUTE, HELLO, [Recipient(address=TO)])
    kal.state.api_key = "Asomething0else"
    errors = [await send_error(kal.adapter)]
    kal.state.inject(hang=True)
    errors.append(await send_error(kal.with_config(timeout_seconds=0.2)))

    assert "without a message_id" in caplog.text
    texts = [repr(kal.adapter), repr(kal.adapter._config), caplog.text]
    texts += [f"{e!s} {e!r} {e.reason}" for e in errors]
    for text in texts:
        assert KEY not in text
