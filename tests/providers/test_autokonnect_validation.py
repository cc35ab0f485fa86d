"""Local validation: everything AutoKonnect would refuse is rejected before any request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from providers.base import InvalidMessage, Message, MessageType, Recipient, Route, Service
from tests.conftest import StartApp
from tests.providers.autokonnect_kit import (
    ROUTE,
    Harness,
    harness,
    to,
)


@pytest.fixture
async def ak(start_app: StartApp) -> AsyncIterator[Harness]:
    async with harness(start_app) as h:
        yield h


ONE = to("+254712345678")
BUTTONS = {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "OK"}}]}


def interactive(**fields: Any) -> Message:
    return Message(type=MessageType.INTERACTIVE, interactive=fields)


CASES: list[tuple[str, Message, str]] = [
    ("empty text", Message(text="  "), "message is required for text"),
    ("no text", Message(), "message is required for text"),
    (
        "image without link",
        Message(type=MessageType.IMAGE, text="caption"),
        "link is required for image",
    ),
    ("video without link", Message(type=MessageType.VIDEO), "link is required for video"),
    ("audio without link", Message(type=MessageType.AUDIO), "link is required for audio"),
    ("document without link", Message(type=MessageType.DOCUMENT), "link is required for document"),
    (
        "link not a URL",
        Message(type=MessageType.IMAGE, media_url="file:///tmp/x.jpg"),
        "publicly accessible http(s) URL",
    ),
    (
        # "caption ... Optional caption for image, video, and document messages." — not audio
        "caption on audio",
        Message(type=MessageType.AUDIO, media_url="https://example.com/a.mp3", text="listen"),
        "no caption on audio",
    ),
    (
        "template without id",
        Message(type=MessageType.TEMPLATE, components=[]),
        "template_id is required",
    ),
    (
        # doc example "template_id": "promo_template" vs "template_id must be a number"
        "template named, not numbered",
        Message(type=MessageType.TEMPLATE, template_id="promo_template", components=[]),
        "template_id must be a number",
    ),
    (
        "template id with a sign",
        Message(type=MessageType.TEMPLATE, template_id="-5", components=[]),
        "template_id must be a number",
    ),
    (
        "template without components",
        Message(type=MessageType.TEMPLATE, template_id="123"),
        "components is required for template",
    ),
    ("interactive missing", Message(type=MessageType.INTERACTIVE), "interactive is required"),
    (
        "interactive of unknown type",
        interactive(type="flow", body={"text": "x"}, action={}),
        "interactive.type must be one of button, list, product_list, product",
    ),
    (
        "interactive without body",
        interactive(type="button", action=BUTTONS),
        "needs body.text",
    ),
    (
        "interactive with empty body text",
        interactive(type="list", body={"text": ""}, action={"button": "b", "sections": [{}]}),
        "needs body.text",
    ),
    (
        "interactive without action",
        interactive(type="button", body={"text": "x"}),
        "needs an action object",
    ),
    (
        "button without buttons",
        interactive(type="button", body={"text": "x"}, action={"buttons": []}),
        "needs action.buttons",
    ),
    (
        "list without button label and sections",
        interactive(type="list", body={"text": "x"}, action={}),
        "needs action.button, action.sections",
    ),
    (
        "product_list without catalog",
        interactive(type="product_list", body={"text": "x"}, action={"sections": [{}]}),
        "needs action.catalog_id",
    ),
    (
        "product without retailer id",
        interactive(type="product", body={"text": "x"}, action={"catalog_id": "1"}),
        "needs action.product_retailer_id",
    ),
]


@pytest.mark.parametrize(("msg", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_invalid_message_is_rejected_locally_with_no_request(
    ak: Harness, msg: Message, reason: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        await ak.send(msg, ONE)
    assert reason in caught.value.reason
    assert caught.value.status is None
    assert str(caught.value).startswith("AutoKonnect: ")
    assert ak.state.requests == []


RECIPIENT_CASES: list[tuple[str, list[Recipient], str]] = [
    ("none", [], "no recipients"),
    (
        "a WhatsApp group",
        to("120363410923125768@g.us"),
        "is a WhatsApp group — AutoKonnect sends to phone numbers and contact tags only",
    ),
    ("a number without +", [Recipient(address="254712345678")], "is not E.164"),
    ("an empty tag", to("tag:"), "is not a tag id — write tag:<id>"),
    ("a tag with spaces", to("tag:4 2"), "is not a tag id"),
    (
        "over the per-call cap",
        to(*[f"+254700{i:06d}" for i in range(1001)]),
        "1001 recipients in one call — split into batches of at most 1000",
    ),
]


@pytest.mark.parametrize(
    ("recipients", "reason"),
    [c[1:] for c in RECIPIENT_CASES],
    ids=[c[0] for c in RECIPIENT_CASES],
)
async def test_invalid_recipients_are_rejected_locally_with_no_request(
    ak: Harness, recipients: list[Recipient], reason: str
) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        await ak.send(Message(text="hi"), recipients)
    assert ak.state.requests == []


async def test_a_bad_number_is_named_by_ref_or_masked_never_in_full(ak: Harness) -> None:
    with pytest.raises(InvalidMessage) as by_ref:
        await ak.send(Message(text="hi"), [Recipient(address="254712345678", ref="alice")])
    assert "'alice'" in str(by_ref.value)
    with pytest.raises(InvalidMessage) as masked:
        await ak.send(Message(text="hi"), [Recipient(address="254712345678")])
    assert "254712345678" not in str(masked.value)


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(service=Service.WABA), "needs waba_id"),
        (Route(service=Service.SMS, waba_id="123"), "no service 'sms'"),
        (Route(service=Service.WABA, waba_id="123", session_id="s"), "not AutoKonnect settings"),
    ],
)
async def test_bad_route_is_rejected_locally_with_no_request(
    ak: Harness, route: Route, reason: str
) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        await ak.send(Message(text="hi"), ONE, route)
    assert ak.state.requests == []


async def test_validate_accepts_a_mix_of_numbers_and_tags_without_io(ak: Harness) -> None:
    ak.adapter.validate(ROUTE, Message(text="hi"), to("+254712345678", "tag:42"))
    assert ak.state.requests == []
