"""Every request example of the TalkNTalk docs, sent through the adapter, checked on the wire."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from providers.base import (
    Message,
    MessageType,
    NotFound,
    OutcomeStatus,
    Recipient,
    Route,
    Service,
)
from tests.providers.talkntalk_kit import (
    API_KEY,
    GROUP,
    NUMBER,
    SESSION,
    SMS,
    WHATSAPP,
    WHATSAPP_GROUP,
    Harness,
    text,
    tnt,
)

__all__ = ["tnt"]


def assert_wire(h: Harness, path: str, body: dict[str, object]) -> None:
    """Method, exact path, auth, content type and the JSON body, field by field."""
    req = h.last
    assert req.method == "POST"
    assert req.path == path
    # "-H "Authorization: Bearer tk_live_xxxx""
    assert req.headers["Authorization"] == f"Bearer {API_KEY}"
    # "-H "Content-Type: application/json""
    assert req.headers["Content-Type"] == "application/json"
    assert json.loads(req.raw) == body
    assert len(h.state.requests) == 1


async def test_sms_doc_example_goes_to_sms_send_with_digits_only_mobile(tnt: Harness) -> None:
    # curl -X POST https://api.talkntalk.africa/v1/sms/send/
    # -d '{"mobile": "254712345678", "message": "Hello from TalkNTalk!", "sender_id": "TALKNTALK"}'
    result = await tnt.send(SMS, text(), NUMBER, ref="r1")
    assert_wire(
        tnt,
        "/v1/sms/send/",
        {"mobile": "254712345678", "message": "Hello from TalkNTalk!", "sender_id": "TALKNTALK"},
    )
    [outcome] = result.outcomes
    assert outcome.status is OutcomeStatus.SENT
    assert outcome.recipient.ref == "r1"
    # "id: UUID — use this to look up the message in Fetch Messages"
    assert outcome.provider_message_id == str(uuid.UUID(outcome.provider_message_id or ""))
    assert tnt.state.deliveries[0].message_id == outcome.provider_message_id
    assert tnt.state.delivered_to("254712345678") == 1


async def test_sms_without_sender_id_omits_the_field(tnt: Harness) -> None:
    # "sender_id ... No ... Defaults to your organisation's default sender ID."
    await tnt.send(Route(service=Service.SMS), text("Order shipped"))
    assert_wire(tnt, "/v1/sms/send/", {"mobile": "254712345678", "message": "Order shipped"})


async def test_sms_non_ascii_text_is_sent_as_utf8_json(tnt: Harness) -> None:
    await tnt.send(SMS, text("Habari — karibu 👋"))
    assert tnt.last.body["message"] == "Habari — karibu 👋"


async def test_whatsapp_text_doc_example(tnt: Harness) -> None:
    # -d '{"to": "254712345678", "type": "text", "message": "Hello from TalkNTalk!"}'
    result = await tnt.send(WHATSAPP, text())
    assert_wire(
        tnt,
        f"/v1/whatsapp/{SESSION}/send/",
        {"to": "254712345678", "type": "text", "message": "Hello from TalkNTalk!"},
    )
    # "message_id": "3EB065B353B9493D00C9"
    message_id = result.outcomes[0].provider_message_id
    assert message_id is not None
    assert re.fullmatch(r"[0-9A-F]{20}", message_id)


async def test_whatsapp_image_doc_example_sends_url_and_caption(tnt: Harness) -> None:
    # -d '{"to": "254712345678", "type": "image", "url": "https://example.com/promo.jpg",
    #      "message": "Check out our latest offer!"}'
    message = Message(
        type=MessageType.IMAGE,
        media_url="https://example.com/promo.jpg",
        text="Check out our latest offer!",
    )
    await tnt.send(WHATSAPP, message)
    assert_wire(
        tnt,
        f"/v1/whatsapp/{SESSION}/send/",
        {
            "to": "254712345678",
            "type": "image",
            "url": "https://example.com/promo.jpg",
            "message": "Check out our latest offer!",
        },
    )


async def test_whatsapp_file_doc_example_maps_document_to_file(tnt: Harness) -> None:
    # -d '{"to": "254712345678", "type": "file", "url": "https://example.com/invoice.pdf",
    #      "filename": "Invoice-001.pdf", "mime_type": "application/pdf"}'
    message = Message(
        type=MessageType.DOCUMENT,
        media_url="https://example.com/invoice.pdf",
        filename="Invoice-001.pdf",
        mime_type="application/pdf",
    )
    await tnt.send(WHATSAPP, message)
    assert_wire(
        tnt,
        f"/v1/whatsapp/{SESSION}/send/",
        {
            "to": "254712345678",
            "type": "file",
            "url": "https://example.com/invoice.pdf",
            "filename": "Invoice-001.pdf",
            "mime_type": "application/pdf",
        },
    )


async def test_whatsapp_audio_is_sent_as_voice(tnt: Harness) -> None:
    message = Message(
        type=MessageType.AUDIO, media_url="https://example.com/note.ogg", mime_type="audio/ogg"
    )
    await tnt.send(WHATSAPP, message)
    assert tnt.last.body == {
        "to": "254712345678",
        "type": "voice",
        "url": "https://example.com/note.ogg",
        "mime_type": "audio/ogg",
    }


async def test_whatsapp_filename_is_sent_only_for_files(tnt: Harness) -> None:
    # "filename ... Suggested filename for the recipient (for type: file)"
    message = Message(
        type=MessageType.VIDEO, media_url="https://example.com/clip.mp4", filename="clip.mp4"
    )
    await tnt.send(WHATSAPP, message)
    assert "filename" not in tnt.last.body
    assert tnt.last.body["type"] == "video"


async def test_group_text_doc_example(tnt: Harness) -> None:
    # -d '{"to": "120363410923125768@g.us", "type": "text", "message": "Hello team!"}'
    result = await tnt.send(WHATSAPP_GROUP, text("Hello team!"), GROUP)
    assert_wire(
        tnt,
        f"/v1/whatsapp/{SESSION}/groups/send/",
        {"to": GROUP, "type": "text", "message": "Hello team!"},
    )
    assert result.outcomes[0].status is OutcomeStatus.SENT
    assert tnt.state.delivered_to(GROUP) == 1


async def test_group_image_doc_example(tnt: Harness) -> None:
    # -d '{"to": "120363410923125768@g.us", "type": "image",
    #      "url": "https://example.com/banner.jpg", "message": "New product launch!"}'
    message = Message(
        type=MessageType.IMAGE,
        media_url="https://example.com/banner.jpg",
        text="New product launch!",
    )
    await tnt.send(WHATSAPP_GROUP, message, GROUP)
    assert_wire(
        tnt,
        f"/v1/whatsapp/{SESSION}/groups/send/",
        {
            "to": GROUP,
            "type": "image",
            "url": "https://example.com/banner.jpg",
            "message": "New product launch!",
        },
    )


async def test_group_voice_with_mime_type(tnt: Harness) -> None:
    # "mime_type ... MIME type hint, e.g. video/mp4, audio/ogg"
    message = Message(
        type=MessageType.AUDIO, media_url="https://example.com/a.ogg", mime_type="audio/ogg"
    )
    await tnt.send(WHATSAPP_GROUP, message, GROUP)
    assert tnt.last.body == {
        "to": GROUP,
        "type": "voice",
        "url": "https://example.com/a.ogg",
        "mime_type": "audio/ogg",
    }


async def test_session_id_is_escaped_into_one_path_segment(tnt: Harness) -> None:
    tnt.state.sessions.add("a/b c")
    await tnt.send(Route(service=Service.WHATSAPP, session_id="a/b c"), text())
    # The emulator routed it as ONE {session_id} segment, so the slash was escaped on the wire.
    assert len(tnt.state.deliveries) == 1


async def test_base_url_path_prefix_is_kept_so_a_wrong_prefix_is_not_found(tnt: Harness) -> None:
    # Without the prefix this would reach /v1/sms/send/ and succeed.
    adapter = tnt.make_adapter(base_url=tnt.url + "/proxy/")
    with pytest.raises(NotFound) as err:
        await adapter.send(SMS, text(), [Recipient(address=NUMBER)])
    assert err.value.status == 404
    assert tnt.state.deliveries == []


async def test_2xx_without_an_id_is_sent_with_no_provider_message_id(
    tnt: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    tnt.state.inject(status=201, body={"status": "queued"})
    result = await tnt.send(SMS, text())
    [outcome] = result.outcomes
    assert outcome.status is OutcomeStatus.SENT
    assert outcome.provider_message_id is None
    assert "without 'id'" in caplog.text
