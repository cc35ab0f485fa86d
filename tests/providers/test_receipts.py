"""TalkNTalk receipts, pure: signature checking (both forms) and parsing of SMS status events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from providers.receipts import (
    Malformed,
    NoReceipts,
    ReceiptStatus,
    Unauthenticated,
    parse_time,
    plain,
    signed_event_key,
)
from providers.talkntalk import TalkNTalkConfig
from providers.talkntalk_receipts import (
    authenticate_talkntalk,
    talkntalk_events,
    talkntalk_signature,
    talkntalk_signature_ok,
)

SECRET = "whsec-tnt-0123456789abcdef"


def config(secret: str | None = SECRET) -> TalkNTalkConfig:
    return TalkNTalkConfig(
        type="talkntalk",
        api_key=SecretStr("tnt-key"),
        webhook_secret=SecretStr(secret) if secret is not None else None,
    )


def body(event: str = "sms.delivered", **data: Any) -> bytes:
    payload = {
        "event": event,
        "timestamp": "2026-05-20T11:31:02+03:00",
        "data": {"id": "018f3a2b-7c4d-7e1a-b3f2-9d8e2c1a4b5f", "mobile": "254712345678", **data},
    }
    return json.dumps(payload).encode()


# --- signatures -------------------------------------------------------------------------------


def test_signature_accepts_a_bare_hex_digest() -> None:
    raw = body(status="delivered")
    assert talkntalk_signature_ok(SECRET, raw, talkntalk_signature(SECRET, raw))


def test_signature_accepts_the_sha256_prefixed_form_in_any_case() -> None:
    raw = body(status="delivered")
    digest = talkntalk_signature(SECRET, raw)
    assert talkntalk_signature_ok(SECRET, raw, f"sha256={digest}")
    assert talkntalk_signature_ok(SECRET, raw, f"SHA256={digest.upper()}")


def test_signature_made_with_another_secret_is_refused() -> None:
    raw = body(status="delivered")
    assert not talkntalk_signature_ok(SECRET, raw, talkntalk_signature("not-the-secret", raw))


def test_signature_of_a_tampered_body_is_refused() -> None:
    signed = body(status="failed")
    tampered = body(status="delivered")
    assert not talkntalk_signature_ok(SECRET, tampered, talkntalk_signature(SECRET, signed))


def test_empty_or_garbage_signature_is_refused() -> None:
    raw = body()
    for given in (None, "", "sha256=", "zz", "sha1=" + talkntalk_signature(SECRET, raw)):
        assert not talkntalk_signature_ok(SECRET, raw, given)


def test_authenticate_reads_the_header_case_insensitively() -> None:
    raw = body(status="delivered")
    headers = {"x-talkntalk-signature": "sha256=" + talkntalk_signature(SECRET, raw)}
    authenticate_talkntalk(config(), "tnt", headers, raw)  # no exception


def test_authenticate_without_a_signature_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated, match="X-TalkNTalk-Signature is missing"):
        authenticate_talkntalk(config(), "tnt", {}, body())


def test_authenticate_with_a_wrong_signature_never_echoes_the_secret() -> None:
    raw = body()
    with pytest.raises(Unauthenticated) as caught:
        authenticate_talkntalk(
            config(), "tnt", {"X-TalkNTalk-Signature": talkntalk_signature("x", raw)}, raw
        )
    assert SECRET not in str(caught.value)
    assert caught.value.status == 401


def test_an_account_without_a_secret_takes_no_receipts() -> None:
    with pytest.raises(NoReceipts, match="receipts not configured for tnt: set webhook_secret"):
        authenticate_talkntalk(config(None), "tnt", {"X-TalkNTalk-Signature": "ab"}, body())


def test_an_empty_webhook_secret_takes_no_receipts_rather_than_any() -> None:
    # An unset or empty variable must never mean "an empty HMAC key anyone can use".
    raw = body()
    headers = {"X-TalkNTalk-Signature": talkntalk_signature("", raw)}
    with pytest.raises(NoReceipts, match="set webhook_secret"):
        authenticate_talkntalk(config("  "), "tnt", headers, raw)


# --- parsing ----------------------------------------------------------------------------------


def test_delivered_event_names_the_message_and_when() -> None:
    (event,) = talkntalk_events({}, body(status="delivered")).events
    assert event.status is ReceiptStatus.DELIVERED
    assert event.provider_message_id == "018f3a2b-7c4d-7e1a-b3f2-9d8e2c1a4b5f"
    assert event.at == datetime(2026, 5, 20, 8, 31, 2, tzinfo=UTC)
    assert event.recipient == "254712345678"
    assert event.reason is None


def test_an_integer_id_is_matched_as_text() -> None:
    (event,) = talkntalk_events({}, body(id=12345, status="delivered")).events
    assert event.provider_message_id == "12345"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # "The message transitions from queued → sent → delivered"
        ("queued", ReceiptStatus.SENT),
        ("sent", ReceiptStatus.SENT),
        ("delivered", ReceiptStatus.DELIVERED),
        ("failed", ReceiptStatus.FAILED),
        ("undelivered", ReceiptStatus.FAILED),
        ("rejected", ReceiptStatus.FAILED),
        ("expired", ReceiptStatus.FAILED),
    ],
)
def test_sms_statuses_map_onto_the_send_record(word: str, expected: ReceiptStatus) -> None:
    (event,) = talkntalk_events({}, body(f"sms.{word}", status=word)).events
    assert event.status is expected


def test_status_comes_from_the_event_name_when_data_has_none() -> None:
    (event,) = talkntalk_events({}, body("sms.sent")).events
    assert event.status is ReceiptStatus.SENT


def test_failure_carries_a_plain_reason_and_code() -> None:
    raw = body("sms.failed", status="undelivered", error={"code": "E21", "message": "Absent"})
    (event,) = talkntalk_events({}, raw).events
    assert event.status is ReceiptStatus.FAILED
    assert event.reason == "the network reported the message undelivered (Absent)"
    assert event.code == "E21"


def test_failure_reason_never_carries_a_phone_number() -> None:
    raw = body("sms.failed", status="failed", reason="254712345678 is not reachable")
    (event,) = talkntalk_events({}, raw).events
    assert event.reason is not None
    assert "254712345678" not in event.reason
    assert event.reason.startswith("the network reported the message could not be delivered")


def test_event_key_is_the_signed_body_whatever_unsigned_headers_say() -> None:
    raw = body(id=7, status="delivered")
    keys = {
        event.event_key
        for headers in ({}, {"X-TalkNTalk-Delivery": "dlv-1"}, {"X-TalkNTalk-Event-Id": "e-2"})
        for event in talkntalk_events(headers, raw).events
    }
    assert keys == {signed_event_key(raw)}
    assert signed_event_key(body(id=7, status="failed")) not in keys


def test_the_signed_body_names_the_event_not_the_unsigned_header() -> None:
    headers = {"X-TalkNTalk-Event": "wallet.low"}
    (event,) = talkntalk_events(headers, body(status="delivered")).events
    assert event.status is ReceiptStatus.DELIVERED


@pytest.mark.parametrize("status", ["delivered", None])
@pytest.mark.parametrize("event", [None, "", 7])
def test_an_unsigned_event_header_never_decides_a_receipt(status: str | None, event: Any) -> None:
    """The signature covers the body only: a body without ``event`` is refused, whatever an
    ``X-TalkNTalk-Event`` header says (it used to decide the status when ``data.status`` did not).
    """
    data: dict[str, Any] = {"id": 9} | ({"status": status} if status else {})
    raw = json.dumps({"data": data} | ({} if event is None else {"event": event})).encode()
    with pytest.raises(Malformed, match='no "event"'):
        talkntalk_events({"X-TalkNTalk-Event": "sms.failed"}, raw)


@pytest.mark.parametrize("event", ["wallet.low", "whatsapp.session.disconnected"])
def test_events_that_are_not_sms_statuses_are_ignored(event: str) -> None:
    batch = talkntalk_events({}, body(event, status="delivered"))
    assert batch.events == ()
    assert batch.ignored


def test_an_sms_event_with_an_unknown_status_or_no_id_is_ignored() -> None:
    assert talkntalk_events({}, body("sms.scheduled", status="scheduled")).ignored
    no_id = json.dumps({"event": "sms.delivered", "data": {"status": "delivered"}}).encode()
    assert talkntalk_events({}, no_id).ignored


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_malformed(raw: bytes) -> None:
    with pytest.raises(Malformed):
        talkntalk_events({}, raw)


# --- shared helpers ---------------------------------------------------------------------------


def test_times_are_read_from_iso_text_and_unix_seconds_or_milliseconds() -> None:
    moment = datetime(2020, 10, 19, 10, 45, 27, tzinfo=UTC)
    assert parse_time("1603104327") == moment
    assert parse_time(1603104327000) == moment
    assert parse_time("2020-10-19T10:45:27Z") == moment
    assert parse_time("2020-10-19T10:45:27") == moment  # naive: taken as UTC
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


def test_plain_joins_title_and_message_and_cuts_long_text() -> None:
    assert plain({"title": "Rate limit hit", "message": "Rate limit hit"}) == "Rate limit hit"
    assert plain("x" * 500, limit=20) == "x" * 19 + "…"
    assert plain({"code": 1}) is None


def test_an_error_given_as_words_is_a_reason_never_a_code() -> None:
    raw = body("sms.failed", status="rejected", error="Absent subscriber")
    (event,) = talkntalk_events({}, raw).events
    assert event.reason == "the network reported the message rejected (Absent subscriber)"
    assert event.code is None


@pytest.mark.parametrize("opening", [b'{"a":', b"["])
def test_a_body_nested_past_the_json_parsers_depth_is_malformed_not_a_crash(
    opening: bytes,
) -> None:
    """Found by the webhook fuzzer: 100,000 levels raised RecursionError, a 500 with a traceback."""
    closing = b"}" if opening.startswith(b"{") else b"]"
    raw = opening * 100_000 + b"1" + closing * 100_000
    with pytest.raises(Malformed, match="nested"):
        talkntalk_events({}, raw)
