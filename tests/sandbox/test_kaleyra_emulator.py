"""The Kaleyra emulator is strict where the doc is, and accepts both forms where the doc is not."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.kaleyra import (
    E110,
    RBC001,
    WA400,
    WA401,
    WA500,
    WA_401_ACCOUNT,
    WA_401_VERSION,
    KaleyraState,
    create_app,
)

# Workaround until common.serve passes shutdown_timeout to AppRunner (aiohttp 3.14 deprecation).

SID = "HXAP16XXXXXX97IN"
KEY = "Akaleyra0secret0key0for0tests0003"
PATH = f"/v2/{SID}/whatsapp/+919000000001/messages"
# The doc's "Sample Request Format" body, verbatim except for a real-looking number.
SAMPLE: dict[str, Any] = {
    "messaging_object": {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+919812345678",
        "type": "text",
        "text": {"preview_url": "false", "body": "This is the sample message"},
    },
    "extra_info": {
        "ref": "customer1",
        "ref1": "marketing",
        "ref2": "dictionary",
        "wa_source": "api",
    },
}


class Emulator:
    def __init__(self, state: KaleyraState, url: str, session: aiohttp.ClientSession) -> None:
        self.state, self.url, self.session = state, url, session

    async def post(
        self, body: Any = SAMPLE, path: str = PATH, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        sent = {"api-key": KEY, "Content-Type": "application/json"}
        sent.update(headers or {})
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(self.url + path, data=data, headers=sent) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except json.JSONDecodeError:
                return response.status, text


@pytest.fixture
async def emu(start_app: Any) -> AsyncIterator[Emulator]:
    state = KaleyraState(api_key=KEY)
    server = await start_app(create_app(state))
    async with aiohttp.ClientSession() as session:
        yield Emulator(state, server.url, session)


def sample_with(**changes: Any) -> dict[str, Any]:
    """The sample with messaging_object / text fields changed; None deletes a field."""
    body = copy.deepcopy(SAMPLE)
    for dotted, value in changes.items():
        *parents, name = dotted.split("__")
        target = body
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[name]
        else:
            target[name] = value
    return body


async def test_doc_sample_is_accepted_with_202_wa202_and_a_message_id(emu: Emulator) -> None:
    status, body = await emu.post()

    # 202 Accepted {"code":"WA202" "message":"Request Accepted", "data":{"message_id":"AXX…"}…}
    assert status == 202
    assert body["code"] == "WA202"
    assert body["message"] == "Request Accepted"
    assert body["error"] == {}
    assert re.fullmatch(r"A[A-Z0-9]{19}", body["data"]["message_id"])
    [delivery] = emu.state.deliveries
    assert delivery.recipient == "+919812345678"
    assert delivery.message_id == body["data"]["message_id"]
    assert delivery.payload["extra_info"]["ref"] == "customer1"


@pytest.mark.parametrize("preview", [False, True, "false", "true"])
async def test_preview_url_is_accepted_as_boolean_or_the_samples_string(
    emu: Emulator, preview: Any
) -> None:
    # Table: "preview_url | Boolean"; sample: "preview_url": "false".
    status, _ = await emu.post(sample_with(messaging_object__text__preview_url=preview))
    assert status == 202


@pytest.mark.parametrize("to", ["+919812345678", "919812345678"])
async def test_to_is_accepted_with_or_without_plus_and_recorded_as_e164(
    emu: Emulator, to: str
) -> None:
    # Sample: "to": "+91XXXXXXXXXX"; table: to_number example 91XXXXXXXXXX.
    status, _ = await emu.post(sample_with(messaging_object__to=to))
    assert status == 202
    assert emu.state.deliveries[0].recipient == "+919812345678"


async def test_business_number_in_the_path_may_omit_the_plus(emu: Emulator) -> None:
    status, _ = await emu.post(path=f"/v2/{SID}/whatsapp/919000000001/messages")
    assert status == 202


async def test_comma_separated_to_records_one_delivery_per_number(emu: Emulator) -> None:
    # "You can add multiple recipients, separate each number using the comma (,) delimiter."
    status, body = await emu.post(sample_with(messaging_object__to="+919812345678,919812345679"))

    assert status == 202
    assert [d.recipient for d in emu.state.deliveries] == ["+919812345678", "+919812345679"]
    assert {d.message_id for d in emu.state.deliveries} == {body["data"]["message_id"]}


async def test_optional_fields_default_to_individual_text(emu: Emulator) -> None:
    body = sample_with(
        messaging_object__recipient_type=None,
        messaging_object__type=None,
        messaging_object__text__preview_url=None,
        extra_info=None,
    )
    status, _ = await emu.post(body)
    assert status == 202


@pytest.mark.parametrize(
    "path",
    [
        PATH + "/",
        PATH.removeprefix("/v2"),
        f"/v1/{SID}/whatsapp/+919000000001/messages",
        f"/v2/{SID}/whatsapp/+919000000001/message",
    ],
)
async def test_wrong_path_forms_are_404(emu: Emulator, path: str) -> None:
    status, _ = await emu.post(path=path)
    assert status == 404
    assert emu.state.deliveries == []


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (PATH, {"api-key": "Awrong"}),
        (PATH, {"api-key": ""}),
        ("/v2/HXAP16XXXXXX00IN/whatsapp/+919000000001/messages", {}),
    ],
)
async def test_wrong_key_or_sid_is_401_rbc001(
    emu: Emulator, path: str, headers: dict[str, str]
) -> None:
    status, body = await emu.post(path=path, headers=headers)
    assert (status, body) == (401, RBC001)


async def test_missing_api_key_header_is_401_rbc001(emu: Emulator) -> None:
    async with emu.session.post(emu.url + PATH, json=SAMPLE) as response:
        assert response.status == 401
        assert await response.json() == RBC001


async def test_content_type_other_than_json_is_400_wa400(emu: Emulator) -> None:
    # "Content-Type ... The only allowed value is application/json."
    status, body = await emu.post(headers={"Content-Type": "text/plain"})
    assert (status, body) == (400, WA400)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(sample_with(messaging_object=None), id="no-messaging_object"),
        pytest.param(sample_with(messaging_object__messaging_product=None), id="no-product"),
        pytest.param(sample_with(messaging_object__messaging_product="sms"), id="product-sms"),
        pytest.param(sample_with(messaging_object__recipient_type="group"), id="recipient-group"),
        pytest.param(sample_with(messaging_object__to=None), id="no-to"),
        pytest.param(sample_with(messaging_object__to="hello"), id="to-not-number"),
        pytest.param(sample_with(messaging_object__type="image"), id="type-image"),
        pytest.param(sample_with(messaging_object__text=None), id="no-text"),
        pytest.param(sample_with(messaging_object__text__body=None), id="no-body"),
        pytest.param(sample_with(messaging_object__text__body=""), id="empty-body"),
        pytest.param(sample_with(messaging_object__text__body="x" * 4097), id="body-4097"),
        pytest.param(sample_with(messaging_object__text__preview_url="yes"), id="preview-yes"),
        pytest.param(sample_with(extra_info__ref="r" * 256), id="ref-256"),
        pytest.param(sample_with(extra_info__ref2="r" * 256), id="ref2-256"),
    ],
)
async def test_bad_payload_is_400_wa400_with_the_docs_body(emu: Emulator, body: Any) -> None:
    status, answer = await emu.post(body)
    assert (status, answer) == (400, WA400)
    assert emu.state.deliveries == []


@pytest.mark.parametrize(
    ("knob", "value", "status", "answer"),
    [
        ("numbers", {"+919000000002"}, 401, WA401),
        ("numbers", {"919000000001"}, 202, None),
        ("low_balance", True, 400, E110),
        ("account_disabled", True, 401, WA_401_ACCOUNT),
        ("v1_numbers", {"+919000000001"}, 401, WA_401_VERSION),
    ],
)
async def test_account_knobs_answer_the_documented_errors(
    emu: Emulator, knob: str, value: Any, status: int, answer: Any
) -> None:
    setattr(emu.state, knob, value)
    got_status, got = await emu.post()

    assert got_status == status
    if answer is not None:
        assert got == answer
        assert emu.state.deliveries == []


def test_documented_error_bodies_are_verbatim() -> None:
    # 401 Unauthorized {"code": "RBC001", "message": "Incorrect SID or API key.", "data": [], ...}
    assert RBC001 == {
        "code": "RBC001",
        "message": "Incorrect SID or API key.",
        "data": [],
        "error": {"error": "Incorrect SID or API key."},
    }
    assert WA500 == {
        "code": "WA500",
        "message": "Please try again later",
        "data": {},
        "error": {"error": "Internal server error"},
    }


async def test_injected_fault_answers_500_wa500(emu: Emulator) -> None:
    emu.state.inject(status=500, body=WA500)
    assert await emu.post() == (500, WA500)
    assert emu.state.deliveries == []


async def test_rate_limit_answers_429_with_retry_after(emu: Emulator) -> None:
    emu.state.rate_limit, emu.state.retry_after = 1, 5
    assert (await emu.post())[0] == 202
    async with emu.session.post(emu.url + PATH, json=SAMPLE, headers={"api-key": KEY}) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "5"
    assert emu.state.throttled == 1


async def test_literal_sample_body_knob_answers_the_docs_invalid_json(emu: Emulator) -> None:
    emu.state.literal_sample_body = True
    status, text = await emu.post()

    assert status == 202
    assert isinstance(text, str)  # not JSON: '"code":"WA202"' is followed by no comma
    assert '"code":"WA202"\n"message"' in text
    assert (emu.state.deliveries[0].message_id or "-") in text


async def test_every_request_is_recorded_even_when_rejected(emu: Emulator) -> None:
    await emu.post(headers={"api-key": "Awrong"})
    await emu.post(path=PATH + "/")
    assert [r.path for r in emu.state.requests] == [PATH]  # 404s never reach the handler
