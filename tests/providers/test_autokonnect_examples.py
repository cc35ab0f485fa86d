"""Every request example of docs/providers/autokonnect-waba-messages.txt, sent by the adapter.

Each test asserts the exact JSON body the emulator received, the path, method and headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from providers.autokonnect import AutoKonnect, AutoKonnectConfig
from providers.base import InvalidMessage, Message, MessageType, OutcomeStatus, Recipient
from tests.conftest import StartApp
from tests.providers.autokonnect_kit import (
    API_KEY,
    PATH,
    Harness,
    harness,
    to,
)


@pytest.fixture
async def ak(start_app: StartApp) -> AsyncIterator[Harness]:
    async with harness(start_app) as h:
        yield h


def assert_request(h: Harness, body: dict[str, Any]) -> None:
    """One POST to the documented path, Bearer key, JSON content type, exactly this body."""
    request = h.only_request()
    assert request.method == "POST"
    assert request.path == PATH  # "POST /api/v1/whatsapp/:id/messages", no trailing slash
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == body


def assert_all_sent(result: Any, recipients: list[Recipient], count: int) -> None:
    assert [o.recipient for o in result.outcomes] == recipients
    assert all(o.status is OutcomeStatus.SENT for o in result.outcomes)
    # The API answers no message id, only how many unique numbers it queued.
    assert all(o.provider_message_id is None for o in result.outcomes)
    assert result.recipients_count == count


HELLO = "Hello! This is a test message"
CURL = "Hello from the API!"


@pytest.mark.parametrize("text", [HELLO, CURL])
async def test_text_to_a_single_number_sends_phone_number_as_a_string(
    ak: Harness, text: str
) -> None:
    # doc: { "phone_number": "+254712345678", "type": "text", "message": "Hello! ..." }
    recipients = to("+254712345678")
    result = await ak.send(Message(text=text), recipients)
    assert_request(ak, {"phone_number": "+254712345678", "type": "text", "message": text})
    assert_all_sent(result, recipients, 1)
    assert ak.state.delivered_to("+254712345678") == 1


@pytest.mark.parametrize("text", [HELLO, CURL])
async def test_text_to_many_numbers_sends_one_request_with_an_array(ak: Harness, text: str) -> None:
    # doc: "phone_number": ["+254712345678", "+254798765432"]
    recipients = to("+254712345678", "+254798765432")
    result = await ak.send(Message(text=text), recipients)
    assert_request(
        ak,
        {"phone_number": ["+254712345678", "+254798765432"], "type": "text", "message": text},
    )
    assert_all_sent(result, recipients, 2)


@pytest.mark.parametrize("text", [HELLO, CURL])
async def test_text_to_a_contact_tag_sends_contact_tag_id_and_reports_tag_size(
    ak: Harness, text: str
) -> None:
    # doc: { "contact_tag_id": "42", "type": "text", ... }  ->  "recipients_count": 3
    recipients = to("tag:42")
    result = await ak.send(Message(text=text), recipients)
    assert_request(ak, {"contact_tag_id": "42", "type": "text", "message": text})
    assert_all_sent(result, recipients, 3)
    assert len(ak.state.deliveries) == 3


async def test_text_to_tags_and_a_number_merges_and_dedupes_in_one_request(ak: Harness) -> None:
    # doc: { "contact_tag_id": ["42", "57"], "phone_number": "+254798765432", ... }
    recipients = to("tag:42", "tag:57", "+254798765432")
    result = await ak.send(Message(text=HELLO), recipients)
    assert_request(
        ak,
        {
            "contact_tag_id": ["42", "57"],
            "phone_number": "+254798765432",
            "type": "text",
            "message": HELLO,
        },
    )
    # Tag 42 has 3 numbers, tag 57 has 2 (one shared with 42), plus the number: 5 unique.
    assert_all_sent(result, recipients, 5)
    assert ak.state.delivered_to("+254700000003") == 1


@pytest.mark.parametrize(
    ("kind", "link", "caption"),
    [
        # doc: "type": "image", "link": "https://example.com/image.jpg", "caption": "Check out..."
        (MessageType.IMAGE, "https://example.com/image.jpg", "Check out this photo"),
        (MessageType.VIDEO, "https://example.com/video.mp4", "Watch this!"),
        (MessageType.DOCUMENT, "https://example.com/file.pdf", "Please review the file"),
        # doc: audio has only "link": "https://example.com/audio.mp3"
        (MessageType.AUDIO, "https://example.com/audio.mp3", None),
    ],
)
async def test_media_examples_send_link_and_caption(
    ak: Harness, kind: MessageType, link: str, caption: str | None
) -> None:
    recipients = to("+254712345678")
    result = await ak.send(Message(type=kind, media_url=link, text=caption), recipients)
    body = {"phone_number": "+254712345678", "type": kind.value, "link": link}
    if caption is not None:
        body["caption"] = caption
    assert_request(ak, body)
    assert_all_sent(result, recipients, 1)


async def test_media_without_caption_sends_no_caption_key(ak: Harness) -> None:
    # "caption ... ❌ No  Optional caption for image, video, and document messages."
    msg = Message(type=MessageType.IMAGE, media_url="https://example.com/image.jpg")
    await ak.send(msg, to("+254712345678"))
    assert "caption" not in ak.only_request().body


TEMPLATE_COMPONENTS: list[dict[str, Any]] = [
    {"type": "header", "parameters": [{"type": "image", "link": "https://example.com/header.jpg"}]},
    {
        "type": "body",
        "parameters": [{"type": "text", "text": "Dennis"}, {"type": "text", "text": "20% OFF"}],
    },
    {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "promo123"}],
    },
]


async def test_template_example_with_a_numeric_id_sends_template_id_as_a_number(
    ak: Harness,
) -> None:
    # doc: "template_id | number | Required when type is template. Must be the numeric ID..."
    # The doc's example uses "promo_template"; this is the same example with numeric id 123.
    msg = Message(
        type=MessageType.TEMPLATE,
        template_id="123",
        language="en_US",
        components=TEMPLATE_COMPONENTS,
    )
    recipients = to("+254712345678")
    result = await ak.send(msg, recipients)
    assert_request(
        ak,
        {
            "phone_number": "+254712345678",
            "type": "template",
            "template_id": 123,
            "language": "en_US",
            "components": TEMPLATE_COMPONENTS,
        },
    )
    assert_all_sent(result, recipients, 1)


async def test_template_without_language_sends_no_language_key(ak: Harness) -> None:
    msg = Message(type=MessageType.TEMPLATE, template_id="123", components=[])
    await ak.send(msg, to("+254712345678"))
    body = ak.only_request().body
    assert "language" not in body
    assert body["components"] == []


async def test_template_example_with_its_literal_name_is_rejected_locally(ak: Harness) -> None:
    # doc example: "template_id": "promo_template" — but "400 invalid_template_id_format
    # template_id must be a number". The safe reading: numeric only, refused before sending.
    msg = Message(
        type=MessageType.TEMPLATE,
        template_id="promo_template",
        language="en_US",
        components=TEMPLATE_COMPONENTS,
    )
    with pytest.raises(InvalidMessage, match="template_id must be a number"):
        await ak.send(msg, to("+254712345678"))
    assert ak.state.requests == []


INTERACTIVE_EXAMPLES: dict[str, dict[str, Any]] = {
    "button": {
        "type": "button",
        "body": {"text": "Escolha qual carnê você deseja resgatar no meu abaixo!"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "ID1", "title": "Botão 1"}},
                {"type": "reply", "reply": {"id": "ID2", "title": "Botão 2"}},
            ]
        },
    },
    "list": {
        "type": "list",
        "body": {"text": "ExemplodeMensagemLista"},
        "action": {
            "button": "menutext",
            "sections": [
                {
                    "title": "SectionTitle",
                    "rows": [
                        {"id": "1", "title": "Bruno", "description": "19984440001"},
                        {"id": "2", "title": "Bruno2", "description": "19984440002"},
                        {"id": "3", "title": "Bruno2", "description": "19984440003"},
                    ],
                }
            ],
        },
    },
    "product_list": {
        "type": "product_list",
        "header": {"type": "text", "text": "Texto Header"},
        "body": {"text": "Texto Body"},
        "footer": {"text": "Texto Footer"},
        "action": {
            "catalog_id": "829935987679103",
            "sections": [
                {"title": "Pizzas", "product_items": [{"product_retailer_id": "pizza-queijo"}]},
                {
                    "title": "Refrigerantes",
                    "product_items": [
                        {"product_retailer_id": "coca-2l"},
                        {"product_retailer_id": "coca-fardo"},
                    ],
                },
            ],
        },
    },
    "product": {
        "type": "product",
        "body": {"text": "Texto Body"},
        "footer": {"text": "Texto Footer"},
        "action": {"catalog_id": "829935987679103", "product_retailer_id": "P01002"},
    },
}


@pytest.mark.parametrize("name", list(INTERACTIVE_EXAMPLES))
async def test_interactive_examples_send_the_payload_unchanged(ak: Harness, name: str) -> None:
    # doc: 7. Interactive Buttons, 8. List, 9. Product List, 10. One product
    interactive = INTERACTIVE_EXAMPLES[name]
    recipients = to("+254712345678")
    msg = Message(type=MessageType.INTERACTIVE, interactive=interactive)
    result = await ak.send(msg, recipients)
    assert_request(
        ak,
        {"phone_number": "+254712345678", "type": "interactive", "interactive": interactive},
    )
    assert_all_sent(result, recipients, 1)


async def test_thousand_numbers_go_out_in_exactly_one_request(ak: Harness) -> None:
    # "Bulk sending: ... messages are queued in a single bulk operation for efficiency."
    numbers = [f"+254700{i:06d}" for i in range(1000)]
    recipients = to(*numbers)
    result = await ak.send(Message(text="Maintenance tonight"), recipients)
    request = ak.only_request()
    assert request.body["phone_number"] == numbers
    assert result.recipients_count == 1000
    assert len(result.outcomes) == 1000
    assert len(ak.state.deliveries) == 1000


async def test_duplicate_numbers_are_sent_once_but_every_recipient_gets_an_outcome(
    ak: Harness,
) -> None:
    recipients = [
        Recipient(address="+254712345678", ref="a"),
        Recipient(address="+254712345678", ref="b"),
    ]
    result = await ak.send(Message(text="hi"), recipients)
    assert ak.only_request().body["phone_number"] == "+254712345678"
    assert [o.recipient.ref for o in result.outcomes] == ["a", "b"]
    assert result.recipients_count == 1


async def test_success_without_recipients_count_still_reports_every_recipient_sent(
    ak: Harness,
) -> None:
    # A 2xx means queued; calling it failed would invite a second send.
    ak.state.inject(status=200, body={"message": "Message queued for sending"})
    recipients = to("+254712345678", "tag:42")
    result = await ak.send(Message(text="hi"), recipients)
    assert [o.status for o in result.outcomes] == [OutcomeStatus.SENT, OutcomeStatus.SENT]
    assert result.recipients_count is None


async def test_default_base_url_is_the_documented_host() -> None:
    # curl -X POST https://app.autokonnect.co.ke/api/v1/whatsapp/123/messages
    async with aiohttp.ClientSession() as session:
        adapter = AutoKonnect(AutoKonnectConfig(type="autokonnect", api_key=API_KEY), session)
        assert repr(adapter) == "AutoKonnect(base_url='https://app.autokonnect.co.ke')"
