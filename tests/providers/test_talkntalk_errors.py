"""Every documented TalkNTalk error, produced by the emulator, mapped to the right typed error."""

from __future__ import annotations

from typing import Any

import pytest
from bridge_sandbox.emulators.talkntalk import DEFAULT_SESSION

from providers.base import (
    AuthFailed,
    ErrorKind,
    InsufficientBalance,
    NotFound,
    ProviderServerError,
    RateLimited,
    RequestRejected,
    Route,
    Service,
    SessionUnavailable,
)
from tests.providers.talkntalk_kit import (
    GROUP,
    SMS,
    WHATSAPP,
    WHATSAPP_GROUP,
    Harness,
    text,
    tnt,
)

__all__ = ["tnt"]

WA_ROUTES = [(WHATSAPP, "+254712345678"), (WHATSAPP_GROUP, GROUP)]
WA_IDS = ["individual", "group"]
LOW = "insufficient_balance"


# --- SMS: "Error Responses" table ------------------------------------------------------------


async def test_sms_invalid_sender_id_400_is_request_rejected(tnt: Harness) -> None:
    # "400 Bad Request — mobile or message missing, or invalid sender_id"
    route = Route(service=Service.SMS, sender_id="WAY-TOO-LONG-SENDER")
    with pytest.raises(RequestRejected) as err:
        await tnt.send(route, text())
    e = err.value
    assert (e.status, e.kind) == (400, ErrorKind.PERMANENT)
    assert "sender_id" in e.reason
    assert "TalkNTalk said: invalid sender_id" in e.reason
    assert tnt.state.deliveries == []


async def test_sms_mobile_the_provider_refuses_is_request_rejected(tnt: Harness) -> None:
    with pytest.raises(RequestRejected) as err:
        await tnt.send(SMS, text(), "+25471234")  # 8 digits: plausible E.164, too short here
    assert err.value.status == 400
    assert "mobile" in err.value.reason


async def test_sms_maps_401_to_auth_failed_without_the_key(tnt: Harness) -> None:
    # "401 Unauthorized — authentication_failed — Missing or invalid API key"
    adapter = tnt.make_adapter(api_key="tk_live_wrong")
    tnt.adapter = adapter
    with pytest.raises(AuthFailed) as err:
        await tnt.send(SMS, text())
    e = err.value
    assert (e.status, e.code, e.kind) == (401, "authentication_failed", ErrorKind.PERMANENT)
    assert "API key missing or invalid" in str(e)
    assert "TALKNTALK_API_KEY" in str(e)
    assert "tk_live_wrong" not in str(e) + repr(e)


async def test_sms_maps_402_to_insufficient_balance(tnt: Harness) -> None:
    # "402 Payment Required — insufficient_balance — Wallet balance too low"
    tnt.state.balance = 1  # "Charges are deducted from your wallet immediately."
    await tnt.send(SMS, text())
    assert tnt.state.balance == 0
    with pytest.raises(InsufficientBalance) as err:
        await tnt.send(SMS, text())
    e = err.value
    assert (e.status, e.code, e.kind) == (402, "insufficient_balance", ErrorKind.PERMANENT)
    assert str(e).startswith("TalkNTalk: wallet balance too low — top up the TalkNTalk wallet")
    assert len(tnt.state.deliveries) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"code": "insufficient_balance", "detail": "Wallet balance too low"},
            "insufficient_balance",
        ),
        ({"error": {"code": "insufficient_balance", "message": "Low"}}, "insufficient_balance"),
        ({"error": "insufficient_balance"}, "insufficient_balance"),
        ({"error_code": "insufficient_balance"}, "insufficient_balance"),
        ("Payment Required", None),  # a plain-text body: the status alone decides
    ],
    ids=["code", "error.code", "error-string", "error_code", "text"],
)
async def test_sms_402_code_is_read_from_any_body_shape(
    tnt: Harness, body: Any, code: str | None
) -> None:
    tnt.state.inject(status=402, body=body)
    with pytest.raises(InsufficientBalance) as err:
        await tnt.send(SMS, text())
    assert err.value.code == code
    assert err.value.status == 402


async def test_documented_code_wins_over_an_unexpected_status(tnt: Harness) -> None:
    tnt.state.inject(status=403, body={"error": {"code": "authentication_failed"}})
    with pytest.raises(AuthFailed) as err:
        await tnt.send(SMS, text())
    assert (err.value.status, err.value.code) == (403, "authentication_failed")


async def test_sms_maps_429_to_rate_limited_with_retry_after(tnt: Harness) -> None:
    # "429 Too Many Requests — Rate limit exceeded — retry after the Retry-After header"
    tnt.state.rate_limit = 1
    tnt.state.retry_after = 2.5
    await tnt.send(SMS, text())
    with pytest.raises(RateLimited) as err:
        await tnt.send(SMS, text())
    e = err.value
    assert (e.status, e.retry_after, e.kind) == (429, 2.5, ErrorKind.RETRYABLE)
    assert tnt.state.throttled == 1
    assert len(tnt.state.deliveries) == 1


async def test_429_with_http_date_retry_after_is_parsed(tnt: Harness) -> None:
    tnt.state.inject(status=429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    with pytest.raises(RateLimited) as err:
        await tnt.send(SMS, text())
    assert err.value.retry_after is not None
    assert err.value.retry_after > 86400


# --- WhatsApp individual and group: the same error table -------------------------------------


@pytest.mark.parametrize(("route", "to"), WA_ROUTES, ids=WA_IDS)
async def test_whatsapp_maps_401_to_auth_failed(tnt: Harness, route: Route, to: str) -> None:
    # "401 Unauthorized — Missing or invalid API key"
    tnt.adapter = tnt.make_adapter(api_key="tk_live_wrong")
    with pytest.raises(AuthFailed) as err:
        await tnt.send(route, text(), to)
    assert err.value.status == 401
    assert "TALKNTALK_API_KEY" in err.value.reason


@pytest.mark.parametrize(("route", "to"), WA_ROUTES, ids=WA_IDS)
async def test_whatsapp_maps_404_to_session_not_found(tnt: Harness, route: Route, to: str) -> None:
    # "404 Not Found — Session not found in your organisation"
    tnt.state.sessions = {"another-session"}
    with pytest.raises(NotFound) as err:
        await tnt.send(route, text(), to)
    e = err.value
    assert (e.status, e.kind) == (404, ErrorKind.PERMANENT)
    assert "session not found in your organisation — check session_id" in e.reason


@pytest.mark.parametrize(("route", "to"), WA_ROUTES, ids=WA_IDS)
async def test_whatsapp_maps_409_to_session_unavailable(
    tnt: Harness, route: Route, to: str
) -> None:
    # "409 Conflict — Phone is not connected"
    tnt.state.disconnected.add(DEFAULT_SESSION)
    with pytest.raises(SessionUnavailable) as err:
        await tnt.send(route, text(), to)
    e = err.value
    assert (e.status, e.kind) == (409, ErrorKind.PERMANENT)
    assert "the WhatsApp phone is not connected — reconnect it in TalkNTalk" in e.reason


@pytest.mark.parametrize(("route", "to"), WA_ROUTES, ids=WA_IDS)
async def test_whatsapp_502_provider_rejection_is_permanent_not_ambiguous(
    tnt: Harness, route: Route, to: str
) -> None:
    # "502 Bad Gateway — WhatsApp provider rejected the message": a definite answer, not a maybe.
    tnt.state.reject_whatsapp = True
    with pytest.raises(RequestRejected) as err:
        await tnt.send(route, text(), to)
    e = err.value
    assert (e.status, e.kind) == (502, ErrorKind.PERMANENT)
    assert tnt.state.deliveries == []


@pytest.mark.parametrize(("route", "to"), WA_ROUTES, ids=WA_IDS)
@pytest.mark.parametrize("status", [500, 503, 504])
async def test_whatsapp_other_5xx_are_ambiguous(
    tnt: Harness, route: Route, to: str, status: int
) -> None:
    tnt.state.inject(status=status, body={"detail": "upstream trouble"})
    with pytest.raises(ProviderServerError) as err:
        await tnt.send(route, text(), to)
    assert (err.value.status, err.value.kind) == (status, ErrorKind.AMBIGUOUS)


async def test_whatsapp_number_the_provider_refuses_is_request_rejected(tnt: Harness) -> None:
    # "400 Bad Request — Missing required field, unsupported type, or group ID passed as to"
    with pytest.raises(RequestRejected) as err:
        await tnt.send(WHATSAPP, text(), "+25471234")  # too short for the provider
    assert err.value.status == 400
    assert "group id sent as a number" in err.value.reason


async def test_group_id_the_provider_refuses_is_request_rejected(tnt: Harness) -> None:
    # "400 Bad Request — Missing required field, unsupported type, or to is not a group ID"
    with pytest.raises(RequestRejected) as err:
        await tnt.send(WHATSAPP_GROUP, text(), "not.a.group@g.us")
    assert err.value.status == 400
    assert "not a group id" in err.value.reason
    assert "TalkNTalk said: to is not a group ID" in err.value.reason


async def test_whatsapp_400_body_with_error_sentence_is_not_taken_for_a_code(tnt: Harness) -> None:
    tnt.state.inject(status=400, body={"success": False, "error": "Missing required field"})
    with pytest.raises(RequestRejected) as err:
        await tnt.send(WHATSAPP, text())
    assert err.value.code is None
    assert "TalkNTalk said: Missing required field" in err.value.reason


async def test_whatsapp_2xx_with_success_false_is_not_counted_as_sent(tnt: Harness) -> None:
    tnt.state.inject(status=200, body={"success": False, "error": "not_sent"})
    with pytest.raises(RequestRejected) as err:
        await tnt.send(WHATSAPP, text())
    assert err.value.code == "not_sent"
