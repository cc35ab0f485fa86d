"""AutoKonnect errors: every documented status and code, transport failures, and secrecy."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bridge_sandbox.emulators.autokonnect import ERROR_MESSAGES

from providers.autokonnect import AutoKonnectConfig
from providers.base import (
    AuthFailed,
    ConnectFailed,
    ConnectionDropped,
    ErrorKind,
    Message,
    MessageType,
    NotFound,
    ProviderError,
    ProviderServerError,
    ProviderTimeout,
    RateLimited,
    RequestRejected,
    Route,
    Service,
    SessionUnavailable,
)
from tests.conftest import StartApp
from tests.providers.autokonnect_kit import (
    API_KEY,
    Harness,
    harness,
    to,
)


@pytest.fixture
async def ak(start_app: StartApp) -> AsyncIterator[Harness]:
    async with harness(start_app) as h:
        yield h


TEXT = Message(text="Hello")
ONE = to("+254712345678")


async def send_error(h: Harness, msg: Message = TEXT, route: Route | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await h.send(msg, ONE, route or Route(service=Service.WABA, waba_id="123"))
    return caught.value


# --- errors the emulator produces from its knobs ---------------------------------------------


async def test_wrong_api_key_maps_401_invalid_api_key_to_auth_failed(start_app: StartApp) -> None:
    async with harness(start_app, api_key="not-the-key") as h:
        err = await send_error(h)
    assert isinstance(err, AuthFailed)
    assert (err.status, err.code, err.kind) == (401, "invalid_api_key", ErrorKind.PERMANENT)
    assert "check the AutoKonnect API key" in str(err)


async def test_malformed_key_maps_401_invalid_auth_header_to_auth_failed(
    start_app: StartApp,
) -> None:
    # "401 invalid_auth_header Missing or malformed Authorization header"
    async with harness(start_app, api_key="two words") as h:
        err = await send_error(h)
    assert isinstance(err, AuthFailed)
    assert (err.status, err.code) == (401, "invalid_auth_header")


async def test_foreign_waba_maps_403_credential_resource_mismatch_to_auth_failed(
    ak: Harness,
) -> None:
    ak.state.foreign_wabas.add("777")
    err = await send_error(ak, route=Route(service=Service.WABA, waba_id="777"))
    assert isinstance(err, AuthFailed)
    assert (err.status, err.code) == (403, "credential_resource_mismatch")
    assert "this WABA does not belong to the API key's company — check waba_id" in str(err)


async def test_unknown_waba_maps_codeless_404_to_not_found(ak: Harness) -> None:
    # "404 | | WABA channel ID not found"
    err = await send_error(ak, route=Route(service=Service.WABA, waba_id="999"))
    assert isinstance(err, NotFound)
    assert (err.status, err.code) == (404, None)
    assert "WABA channel ID not found — check waba_id" in str(err)


async def test_disconnected_waba_maps_reconnect_waba_to_session_unavailable(ak: Harness) -> None:
    ak.state.disconnected_wabas.add("123")
    err = await send_error(ak)
    assert isinstance(err, SessionUnavailable)
    assert (err.status, err.code) == (400, "reconnect_waba")
    assert err.reason == "WABA channel is disconnected — reconnect it in AutoKonnect"


async def test_unknown_template_maps_404_template_not_found_to_not_found(ak: Harness) -> None:
    msg = Message(type=MessageType.TEMPLATE, template_id="999", components=[])
    err = await send_error(ak, msg)
    assert isinstance(err, NotFound)
    assert (err.status, err.code) == (404, "template_not_found")
    assert "template id not found for this company" in str(err)


async def test_unapproved_template_maps_to_request_rejected(ak: Harness) -> None:
    msg = Message(type=MessageType.TEMPLATE, template_id="124", components=[])
    err = await send_error(ak, msg)
    assert isinstance(err, RequestRejected)
    assert (err.status, err.code) == (400, "template_not_approved")
    assert "not approved" in str(err)


async def test_tag_without_contacts_maps_no_valid_recipients(ak: Harness) -> None:
    with pytest.raises(RequestRejected) as caught:
        await ak.send(TEXT, to("tag:99"))
    assert (caught.value.status, caught.value.code) == (400, "no_valid_recipients")
    assert "add contacts to the tag" in str(caught.value)
    assert ak.state.deliveries == []


# --- every documented code, injected, in two body shapes -------------------------------------

DOCUMENTED: list[tuple[int, str, type[ProviderError]]] = [
    (400, "missing_type", RequestRejected),
    (400, "missing_recipient", RequestRejected),
    (400, "no_valid_recipients", RequestRejected),
    (400, "invalid_type", RequestRejected),
    (400, "missing_message", RequestRejected),
    (400, "missing_link", RequestRejected),
    (400, "missing_template_id", RequestRejected),
    (400, "invalid_template_id_format", RequestRejected),
    (400, "missing_components", RequestRejected),
    (400, "template_not_approved", RequestRejected),
    (400, "reconnect_waba", SessionUnavailable),
    (401, "invalid_auth_header", AuthFailed),
    (401, "invalid_api_key", AuthFailed),
    (403, "credential_resource_mismatch", AuthFailed),
    (404, "template_not_found", NotFound),
]


def shaped(shape: str, code: str) -> dict[str, Any]:
    message = ERROR_MESSAGES[code]
    if shape == "error":  # the emulator's own shape
        return {"error": code, "message": message}
    if shape == "code":
        return {"code": code, "message": message}
    return {"error": {"code": code, "message": message}}


@pytest.mark.parametrize("shape", ["error", "code", "nested"])
@pytest.mark.parametrize(("status", "code", "cls"), DOCUMENTED)
async def test_every_documented_error_code_maps_to_its_class(
    ak: Harness, shape: str, status: int, code: str, cls: type[ProviderError]
) -> None:
    ak.state.inject(status=status, body=shaped(shape, code))
    err = await send_error(ak)
    assert type(err) is cls
    assert (err.status, err.code, err.kind) == (status, code, ErrorKind.PERMANENT)
    assert "—" in err.reason  # says what is wrong and what to do


async def test_a_sentence_in_error_is_not_taken_for_a_code(ak: Harness) -> None:
    ak.state.inject(status=404, body={"error": "WABA channel ID not found"})
    err = await send_error(ak)
    assert isinstance(err, NotFound)
    assert err.code is None


async def test_500_is_an_ambiguous_server_error(ak: Harness) -> None:
    # "500 | | Internal server error"
    ak.state.inject(status=500, body={"message": "Internal server error"})
    err = await send_error(ak)
    assert isinstance(err, ProviderServerError)
    assert (err.status, err.kind) == (500, ErrorKind.AMBIGUOUS)
    assert "may or may not" in str(err)


async def test_undocumented_502_with_html_is_ambiguous(ak: Harness) -> None:
    ak.state.inject(status=502, body="<html>bad gateway</html>")
    err = await send_error(ak)
    assert isinstance(err, ProviderServerError)
    assert err.kind is ErrorKind.AMBIGUOUS


# --- transport ---------------------------------------------------------------------------------


async def test_connection_refused_is_connect_failed_and_retryable(start_app: StartApp) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with harness(start_app, base_url=f"http://127.0.0.1:{port}") as h:
        err = await send_error(h)
    assert isinstance(err, ConnectFailed)
    assert err.kind is ErrorKind.RETRYABLE


async def test_hang_with_short_timeout_is_an_ambiguous_timeout(start_app: StartApp) -> None:
    async with harness(start_app, timeout_seconds=0.2) as h:
        h.state.inject(hang=True)
        err = await send_error(h)
    assert isinstance(err, ProviderTimeout)
    assert err.kind is ErrorKind.AMBIGUOUS


async def test_dropped_connection_is_ambiguous(ak: Harness) -> None:
    ak.state.inject(drop=True)
    err = await send_error(ak)
    assert isinstance(err, ConnectionDropped)
    assert err.kind is ErrorKind.AMBIGUOUS


async def test_drop_after_queueing_is_ambiguous_though_the_message_went_out(ak: Harness) -> None:
    ak.state.inject(drop=True, process=True)
    err = await send_error(ak)
    assert isinstance(err, ConnectionDropped)
    assert ak.state.delivered_to("+254712345678") == 1


async def test_rate_limit_429_carries_retry_after(ak: Harness) -> None:
    ak.state.rate_limit = 1
    ak.state.retry_after = 7
    await ak.send(TEXT, ONE)
    err = await send_error(ak)
    assert isinstance(err, RateLimited)
    assert (err.status, err.retry_after, err.kind) == (429, 7.0, ErrorKind.RETRYABLE)
    assert ak.state.throttled == 1


async def test_injected_429_with_retry_after_date_is_parsed(ak: Harness) -> None:
    ak.state.inject(status=429, body={}, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    err = await send_error(ak)
    assert isinstance(err, RateLimited)
    assert err.retry_after == 0.0  # a date in the past: no wait


# --- the key never shows ----------------------------------------------------------------------


async def test_api_key_never_appears_in_reprs_errors_or_logs(
    start_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[ProviderError] = []
    async with harness(start_app) as h:
        await h.send(TEXT, ONE)
        for fault in (
            {"status": 401, "body": {"error": "invalid_api_key", "message": "Invalid API key"}},
            {"status": 500, "body": {"message": "Internal server error"}},
            {"drop": True},
        ):
            h.state.inject(**fault)
            errors.append(await send_error(h))
        texts = [repr(h.adapter), repr(h.adapter._config), str(h.adapter._config)]
        texts += [str(e) for e in errors] + [repr(e) for e in errors]
        texts.append(caplog.text)
    for text in texts:
        assert API_KEY not in text
    config = AutoKonnectConfig(type="autokonnect", api_key=API_KEY)
    assert API_KEY not in repr(config)
    assert API_KEY not in config.model_dump_json()


async def test_logs_do_not_hold_whole_phone_numbers(
    ak: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await ak.send(TEXT, ONE)
    assert "254712345678" not in caplog.text
