"""Local checks: each rejects with a reason a person can act on, and NOTHING reaches TalkNTalk."""

from __future__ import annotations

import pytest

from providers.base import (
    ErrorKind,
    InvalidMessage,
    Message,
    MessageType,
    Recipient,
    Route,
    Service,
)
from tests.providers.talkntalk_kit import (
    GROUP,
    NUMBER,
    SMS,
    WHATSAPP,
    WHATSAPP_GROUP,
    Harness,
    text,
    tnt,
)

__all__ = ["tnt"]

IMAGE = "https://example.com/promo.jpg"


async def rejected(h: Harness, route: Route, message: Message, to: str = NUMBER) -> str:
    """Send, expect InvalidMessage, check no request was made; the reason."""
    with pytest.raises(InvalidMessage) as err:
        await h.send(route, message, to)
    e = err.value
    assert (e.kind, e.status, e.provider) == (ErrorKind.PERMANENT, None, "TalkNTalk")
    assert h.state.requests == []
    return e.reason


async def test_group_id_never_goes_to_the_individual_endpoint(tnt: Harness) -> None:
    reason = await rejected(tnt, WHATSAPP, text(), GROUP)
    assert "is a WhatsApp group id" in reason
    assert "use a whatsapp_group channel" in reason


async def test_number_never_goes_to_the_group_endpoint(tnt: Harness) -> None:
    reason = await rejected(tnt, WHATSAPP_GROUP, text(), NUMBER)
    assert "is not a WhatsApp group id" in reason
    assert "use a whatsapp channel for numbers" in reason


async def test_sms_to_a_group_id_is_rejected(tnt: Harness) -> None:
    reason = await rejected(tnt, SMS, text(), GROUP)
    assert "sms channel sends to numbers only" in reason


async def test_contact_tag_is_rejected_as_an_autokonnect_thing(tnt: Harness) -> None:
    reason = await rejected(tnt, WHATSAPP, text(), "tag:42")
    assert "contact tag" in reason


@pytest.mark.parametrize("address", ["+2547-1234", "+0712345678", "+1234567890123456", "abc"])
async def test_number_not_in_international_format_is_rejected(tnt: Harness, address: str) -> None:
    reason = await rejected(tnt, SMS, text(), address)
    assert "+254712345678" in reason  # shows the form to use


@pytest.mark.parametrize("route", [SMS, WHATSAPP, WHATSAPP_GROUP], ids=lambda r: r.service.value)
@pytest.mark.parametrize("body", [None, "", "   \n"])
async def test_text_message_needs_non_empty_text(
    tnt: Harness, route: Route, body: str | None
) -> None:
    to = GROUP if route is WHATSAPP_GROUP else NUMBER
    reason = await rejected(tnt, route, Message(type=MessageType.TEXT, text=body), to)
    assert "text is empty" in reason


@pytest.mark.parametrize(
    "url", [None, "", "ftp://example.com/a.jpg", "example.com/a.jpg", "https://", "file:///x"]
)
@pytest.mark.parametrize("kind", [MessageType.IMAGE, MessageType.AUDIO, MessageType.DOCUMENT])
async def test_media_needs_an_http_media_url(
    tnt: Harness, kind: MessageType, url: str | None
) -> None:
    reason = await rejected(tnt, WHATSAPP, Message(type=kind, media_url=url, text="caption"))
    assert "needs media_url" in reason
    assert "http(s)" in reason


@pytest.mark.parametrize("kind", [MessageType.IMAGE, MessageType.TEMPLATE])
async def test_sms_takes_text_only(tnt: Harness, kind: MessageType) -> None:
    reason = await rejected(tnt, SMS, Message(type=kind, media_url=IMAGE, template_id="t"))
    assert "SMS takes text only" in reason


async def test_group_does_not_take_documents_and_says_what_it_takes(tnt: Harness) -> None:
    # Group doc: "type ... text, image, video, or voice"
    message = Message(type=MessageType.DOCUMENT, media_url="https://example.com/a.pdf")
    reason = await rejected(tnt, WHATSAPP_GROUP, message, GROUP)
    assert "document messages cannot be sent" in reason
    assert "takes audio, image, text, video" in reason


@pytest.mark.parametrize("kind", [MessageType.TEMPLATE, MessageType.INTERACTIVE])
async def test_whatsapp_rejects_business_only_types(tnt: Harness, kind: MessageType) -> None:
    reason = await rejected(tnt, WHATSAPP, Message(type=kind, template_id="x"))
    assert "takes audio, document, image, text, video" in reason


@pytest.mark.parametrize("service", [Service.WHATSAPP, Service.WHATSAPP_GROUP])
async def test_whatsapp_route_without_session_id_is_rejected(
    tnt: Harness, service: Service
) -> None:
    to = GROUP if service is Service.WHATSAPP_GROUP else NUMBER
    reason = await rejected(tnt, Route(service=service), text(), to)
    assert "needs session_id" in reason
    assert "List Phones" in reason


async def test_service_talkntalk_lacks_is_rejected(tnt: Harness) -> None:
    reason = await rejected(tnt, Route(service=Service.WABA, waba_id="1"), text())
    assert "no 'waba' service" in reason


@pytest.mark.parametrize("count", [0, 2])
async def test_other_than_one_recipient_is_a_programming_error(tnt: Harness, count: int) -> None:
    recipients = [Recipient(address=NUMBER, ref=str(i)) for i in range(count)]
    with pytest.raises(ValueError, match="exactly one recipient"):
        await tnt.adapter.send(SMS, text(), recipients)
    assert tnt.state.requests == []


async def test_validate_alone_does_no_io_and_accepts_good_messages(tnt: Harness) -> None:
    adapter = tnt.adapter
    adapter.validate(SMS, text(), [Recipient(address=NUMBER)])
    adapter.validate(
        WHATSAPP, Message(type=MessageType.VIDEO, media_url=IMAGE), [Recipient(address=NUMBER)]
    )
    adapter.validate(WHATSAPP_GROUP, text("hi"), [Recipient(address=GROUP)])
    assert tnt.state.requests == []
