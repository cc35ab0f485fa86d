"""Kaleyra callbacks, pure: shared-secret header and Basic auth, and the shapes statuses come in."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from providers.kaleyra import KaleyraConfig
from providers.kaleyra_receipts import authenticate_kaleyra, kaleyra_events
from providers.receipts import (
    Malformed,
    NoReceipts,
    ReceiptStatus,
    Unauthenticated,
)

SECRET = "kal-callback-secret-42"


def config(**settings: Any) -> KaleyraConfig:
    settings.setdefault("webhook_secret", SecretStr(SECRET))
    return KaleyraConfig(
        type="kaleyra", api_key=SecretStr("k"), sid="HXAP16XXXXXX97IN", pod="in", **settings
    )


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def raw(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# --- authentication ---------------------------------------------------------------------------


def test_the_default_header_with_the_secret_is_accepted() -> None:
    authenticate_kaleyra(config(), "kal", {"x-webhook-secret": SECRET}, b"{}")


def test_a_configured_header_name_is_the_one_read() -> None:
    cfg = config(webhook_header="X-Kaleyra-Token")
    authenticate_kaleyra(cfg, "kal", {"X-Kaleyra-Token": SECRET}, b"{}")
    with pytest.raises(Unauthenticated, match="X-Kaleyra-Token is missing"):
        authenticate_kaleyra(cfg, "kal", {"X-Webhook-Secret": SECRET}, b"{}")


def test_a_wrong_or_missing_header_secret_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated, match="X-Webhook-Secret is wrong") as caught:
        authenticate_kaleyra(config(), "kal", {"X-Webhook-Secret": SECRET + "x"}, b"{}")
    assert SECRET not in str(caught.value)
    with pytest.raises(Unauthenticated, match="missing"):
        authenticate_kaleyra(config(), "kal", {}, b"{}")


def test_basic_auth_with_the_user_and_secret_is_accepted() -> None:
    cfg = config(webhook_username="kaleyra")
    authenticate_kaleyra(cfg, "kal", {"Authorization": basic("kaleyra", SECRET)}, b"{}")


@pytest.mark.parametrize(
    "authorization",
    [
        basic("kaleyra", "wrong"),
        basic("someone", SECRET),
        "Basic not-base64!",
        "Bearer " + SECRET,
        base64.b64encode(f"kaleyra:{SECRET}".encode()).decode(),  # no scheme
    ],
)
def test_wrong_basic_credentials_are_unauthenticated(authorization: str) -> None:
    cfg = config(webhook_username="kaleyra")
    with pytest.raises(Unauthenticated):
        authenticate_kaleyra(cfg, "kal", {"Authorization": authorization}, b"{}")


def test_with_basic_auth_set_up_the_header_alone_is_not_enough() -> None:
    cfg = config(webhook_username="kaleyra")
    with pytest.raises(Unauthenticated, match="Basic credentials are missing"):
        authenticate_kaleyra(cfg, "kal", {"X-Webhook-Secret": SECRET}, b"{}")


def test_an_account_without_a_secret_takes_no_callbacks() -> None:
    with pytest.raises(NoReceipts, match="receipts not configured for kal: set webhook_secret"):
        authenticate_kaleyra(config(webhook_secret=None), "kal", {"X-Webhook-Secret": ""}, b"")


def test_a_username_with_a_colon_or_a_bad_header_name_is_a_config_error() -> None:
    with pytest.raises(ValidationError):
        config(webhook_username="a:b")
    with pytest.raises(ValidationError):
        config(webhook_header="X Webhook: Secret")


# --- parsing ----------------------------------------------------------------------------------


def statuses_form(status: str = "delivered", **entry: Any) -> dict[str, Any]:
    return {
        "meta_object": {
            "value": {
                "statuses": [
                    {
                        "id": "wamid.HBgMOTE5ODEy",
                        "status": status,
                        "timestamp": "1603104327",
                        "recipient_id": "919812345678",
                        **entry,
                    }
                ]
            }
        },
        "extra_info": {"ref": "R7K3QX9A-3", "wa_source": "api"},
    }


def test_statuses_array_form_matches_by_our_ref_and_the_message_id() -> None:
    (event,) = kaleyra_events(raw(statuses_form())).events
    assert event.status is ReceiptStatus.DELIVERED
    assert event.ref == "R7K3QX9A-3"
    assert event.provider_message_id == "wamid.HBgMOTE5ODEy"
    assert event.at == datetime(2020, 10, 19, 10, 45, 27, tzinfo=UTC)
    assert event.recipient == "919812345678"


def test_top_level_form_with_ref_at_the_top() -> None:
    payload = {"status": "read", "message_id": "AXXXXXXXXXXXXXXXXXXX", "ref": "R7K3QX9A-3"}
    (event,) = kaleyra_events(raw(payload)).events
    assert event.status is ReceiptStatus.READ
    assert (event.ref, event.provider_message_id) == ("R7K3QX9A-3", "AXXXXXXXXXXXXXXXXXXX")


def test_both_forms_at_once_give_one_event_from_the_statuses_array() -> None:
    payload = {**statuses_form("read"), "status": "read", "message_id": "wamid.HBgMOTE5ODEy"}
    (event,) = kaleyra_events(raw(payload)).events
    assert event.status is ReceiptStatus.READ
    assert event.ref == "R7K3QX9A-3"


def test_top_level_status_is_used_when_the_array_has_nothing_usable() -> None:
    payload = {**statuses_form("typing"), "status": "delivered", "message_id": "AX1"}
    (event,) = kaleyra_events(raw(payload)).events
    assert (event.status, event.provider_message_id) == (ReceiptStatus.DELIVERED, "AX1")


def test_failed_status_carries_the_error_title_and_code() -> None:
    errors = [{"code": 131047, "title": "Re-engagement message", "message": "More than 24h"}]
    (event,) = kaleyra_events(raw(statuses_form("failed", errors=errors))).events
    assert event.status is ReceiptStatus.FAILED
    assert event.reason == (
        "WhatsApp could not deliver the message (Re-engagement message: More than 24h)"
    )
    assert event.code == "131047"


def test_a_top_level_ref_is_not_guessed_onto_one_of_several_messages() -> None:
    payload = statuses_form()
    statuses = payload["meta_object"]["value"]["statuses"]
    statuses.append({**statuses[0], "id": "wamid.OTHER"})
    payload["message_id"] = "wamid.OTHER"
    events = kaleyra_events(raw(payload)).events
    assert {(e.provider_message_id, e.ref) for e in events} == {
        ("wamid.HBgMOTE5ODEy", None),
        ("wamid.OTHER", "R7K3QX9A-3"),
    }


def test_a_list_of_callbacks_and_a_plain_statuses_key_are_read_too() -> None:
    payload = [
        {"statuses": [{"id": "A1", "status": "sent"}]},
        {"value": {"statuses": [{"id": "A2", "status": "DELIVERED"}]}},
    ]
    events = kaleyra_events(raw(payload)).events
    assert [(e.provider_message_id, e.status) for e in events] == [
        ("A1", ReceiptStatus.SENT),
        ("A2", ReceiptStatus.DELIVERED),
    ]


def test_event_keys_differ_by_status_and_repeat_for_the_same_status() -> None:
    delivered = kaleyra_events(raw(statuses_form("delivered"))).events[0].event_key
    again = kaleyra_events(raw(statuses_form("delivered"))).events[0].event_key
    read = kaleyra_events(raw(statuses_form("read"))).events[0].event_key
    assert delivered == again != read


def test_a_callback_without_a_status_or_an_id_is_ignored() -> None:
    assert kaleyra_events(raw({"type": "message", "from": "919812345678"})).ignored
    assert kaleyra_events(raw({"status": "delivered"})).ignored


@pytest.mark.parametrize("body", [b"", b"{oops", b"[1]", b"42"])
def test_a_body_that_is_not_json_objects_is_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        kaleyra_events(body)


def test_metas_own_entry_changes_shape_is_read_too() -> None:
    payload = {"entry": [{"changes": [{"value": {"statuses": [{"id": "A3", "status": "read"}]}}]}]}
    (event,) = kaleyra_events(raw(payload)).events
    assert (event.provider_message_id, event.status) == ("A3", ReceiptStatus.READ)


def test_an_entry_without_an_id_among_several_messages_is_not_given_the_top_id() -> None:
    payload = {
        "message_id": "A1",
        "statuses": [{"id": "A1", "status": "sent"}, {"status": "delivered"}],
    }
    events = kaleyra_events(raw(payload)).events
    assert [(e.provider_message_id, e.status) for e in events] == [("A1", ReceiptStatus.SENT)]
