"""The AutoKonnect emulator is strict: raw requests, no adapter, checked against the doc."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import StartApp
from tests.providers.autokonnect_kit import (
    API_KEY,
    PATH,
    Harness,
    harness,
)


@pytest.fixture
async def ak(start_app: StartApp) -> AsyncIterator[Harness]:
    async with harness(start_app) as h:
        yield h


TEXT: dict[str, Any] = {"phone_number": "+254712345678", "type": "text", "message": "hi"}


async def test_trailing_slash_path_is_404(ak: Harness) -> None:
    # "POST /api/v1/whatsapp/:id/messages" — no trailing slash
    status, _ = await ak.post(TEXT, path=PATH + "/")
    assert status == 404
    assert ak.state.deliveries == []


async def test_get_on_the_endpoint_is_405(ak: Harness) -> None:
    async with ak.session.get(ak.url + PATH) as response:
        assert response.status == 405


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "invalid_auth_header"),
        ("", "invalid_auth_header"),
        (f"Token {API_KEY}", "invalid_auth_header"),
        ("Bearer ", "invalid_auth_header"),
        ("Bearer wrong-key", "invalid_api_key"),
    ],
)
async def test_bad_authorization_is_401(ak: Harness, authorization: str | None, code: str) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    url = ak.url + PATH
    async with ak.session.post(url, json=TEXT, headers=headers) as response:
        assert response.status == 401
        assert (await response.json())["error"] == code
    assert ak.state.deliveries == []


async def test_success_body_is_the_documented_one(ak: Harness) -> None:
    status, body = await ak.post(TEXT)
    assert status == 200
    assert body == {"message": "Message queued for sending", "recipients_count": 1}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone_number": "+254712345678", "message": "hi"}, 400, "missing_type"),
        (b"not json", 400, "missing_type"),
        ({"type": "text", "message": "hi"}, 400, "missing_recipient"),
        ({"phone_number": [], "type": "text", "message": "hi"}, 400, "missing_recipient"),
        ({"phone_number": "+254712345678", "type": "sticker"}, 400, "invalid_type"),
        ({"phone_number": "+254712345678", "type": "text"}, 400, "missing_message"),
        ({"phone_number": "+254712345678", "type": "text", "message": ""}, 400, "missing_message"),
        ({"phone_number": "+254712345678", "type": "image"}, 400, "missing_link"),
        ({"phone_number": "+254712345678", "type": "video"}, 400, "missing_link"),
        ({"phone_number": "+254712345678", "type": "audio"}, 400, "missing_link"),
        ({"phone_number": "+254712345678", "type": "document"}, 400, "missing_link"),
        (
            {"phone_number": "+254712345678", "type": "template", "components": []},
            400,
            "missing_template_id",
        ),
        (
            # the doc's own example id
            {
                "phone_number": "+254712345678",
                "type": "template",
                "template_id": "promo_template",
                "components": [],
            },
            400,
            "invalid_template_id_format",
        ),
        (
            {"phone_number": "+254712345678", "type": "template", "template_id": 123},
            400,
            "missing_components",
        ),
        (
            {
                "phone_number": "+254712345678",
                "type": "template",
                "template_id": 124,
                "components": [],
            },
            400,
            "template_not_approved",
        ),
        (
            {
                "phone_number": "+254712345678",
                "type": "template",
                "template_id": 5,
                "components": [],
            },
            404,
            "template_not_found",
        ),
        ({"contact_tag_id": "99", "type": "text", "message": "hi"}, 400, "no_valid_recipients"),
        ({"phone_number": "abc", "type": "text", "message": "hi"}, 400, "no_valid_recipients"),
        ({"phone_number": "+254712345678", "type": "interactive"}, 400, "missing_interactive"),
        (
            {
                "phone_number": "+254712345678",
                "type": "interactive",
                "interactive": {"type": "button"},
            },
            400,
            "invalid_interactive",
        ),
    ],
)
async def test_invalid_bodies_get_the_documented_error(
    ak: Harness, body: Any, status: int, code: str
) -> None:
    got_status, got = await ak.post(body)
    assert (got_status, got["error"]) == (status, code)
    assert isinstance(got["message"], str)
    assert ak.state.deliveries == []


async def test_missing_type_is_checked_before_recipients(ak: Harness) -> None:
    status, body = await ak.post({})
    assert (status, body["error"]) == (400, "missing_type")


@pytest.mark.parametrize(
    ("knob", "status", "body"),
    [
        ("foreign_wabas", 403, {"error": "credential_resource_mismatch"}),
        ("disconnected_wabas", 400, {"error": "reconnect_waba"}),
    ],
)
async def test_waba_knobs_answer_their_documented_errors(
    ak: Harness, knob: str, status: int, body: dict[str, str]
) -> None:
    getattr(ak.state, knob).add("555")
    got_status, got = await ak.post(TEXT, path="/api/v1/whatsapp/555/messages")
    assert got_status == status
    assert got["error"] == body["error"]


async def test_unknown_waba_is_404_without_a_code(ak: Harness) -> None:
    # "404 | | WABA channel ID not found"
    status, body = await ak.post(TEXT, path="/api/v1/whatsapp/555/messages")
    assert status == 404
    assert body == {"message": "WABA channel ID not found"}


async def test_template_id_as_a_digit_string_is_accepted(ak: Harness) -> None:
    status, body = await ak.post(
        {
            "phone_number": "+254712345678",
            "type": "template",
            "template_id": "123",
            "components": [],
        }
    )
    assert (status, body["recipients_count"]) == (200, 1)


async def test_phone_number_as_a_json_number_is_accepted(ak: Harness) -> None:
    # "phone_number | string | number | array"
    status, body = await ak.post({"phone_number": 254712345678, "type": "text", "message": "hi"})
    assert (status, body["recipients_count"]) == (200, 1)
    assert ak.state.delivered_to("+254712345678") == 1


async def test_non_digits_are_stripped_and_numbers_deduplicated(ak: Harness) -> None:
    # "Non-digit characters (spaces, dashes, +) are stripped automatically."
    numbers = ["+254 712-345-678", "254712345678", 254712345678, "+254798765432"]
    status, body = await ak.post({"phone_number": numbers, "type": "text", "message": "hi"})
    assert (status, body["recipients_count"]) == (200, 2)
    assert [d.recipient for d in ak.state.deliveries] == ["+254712345678", "+254798765432"]


async def test_tags_merge_with_numbers_and_each_number_is_delivered_once(ak: Harness) -> None:
    body = {"contact_tag_id": ["42", 57], "phone_number": "+254700000001", "type": "text"}
    status, got = await ak.post({**body, "message": "hi"})
    assert (status, got["recipients_count"]) == (200, 4)
    assert sorted(d.recipient for d in ak.state.deliveries) == [
        "+254700000001",
        "+254700000002",
        "+254700000003",
        "+254700000004",
    ]


async def test_every_request_is_recorded_even_when_refused(ak: Harness) -> None:
    await ak.post({}, headers={"Authorization": "nope"})
    await ak.post(TEXT)
    assert [r.path for r in ak.state.requests] == [PATH, PATH]


async def test_injected_fault_after_processing_still_delivers(ak: Harness) -> None:
    ak.state.inject(status=500, body={"message": "Internal server error"}, process=True)
    status, body = await ak.post(TEXT)
    assert (status, body) == (500, {"message": "Internal server error"})
    assert ak.state.delivered_to("+254712345678") == 1
