"""``python -m bot send`` delivers AutoKonnect's and Kaleyra's doc examples, field for field."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bridge_sandbox.emulators.suite import EmulatorSuite

from tests.bot.cli_kit import (
    AK_PATH,
    assert_all_sent,
    bridge_yaml,
    emulators,
    only,
    send,
    send_all,
)
from tests.bot.dispatch_kit import AK_KEY, KAL_FROM, KAL_KEY, KAL_SID

__all__ = ["bridge_yaml", "emulators"]


# --- AutoKonnect -----------------------------------------------------------------------------

# "6. Template Message", with the numeric id the parameter table demands instead of the
# example's "promo_template" (the doc contradicts itself; see providers/autokonnect.py).
TEMPLATE_COMPONENTS = [
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
# "7. Interactive Buttons Message"
INTERACTIVE_BUTTONS = {
    "type": "button",
    "body": {"text": "Escolha qual carnê você deseja resgatar no meu abaixo!"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "ID1", "title": "Botão 1"}},
            {"type": "reply", "reply": {"id": "ID2", "title": "Botão 2"}},
        ]
    },
}


async def test_send_waba_delivers_the_doc_examples(
    bridge_yaml: Path, emulators: EmulatorSuite, tmp_path: Path
) -> None:
    interactive = tmp_path / "buttons.json"
    interactive.write_text(json.dumps(INTERACTIVE_BUTTONS, ensure_ascii=False), encoding="utf-8")
    waba = ("--channel", "waba")
    one = ("--to", "+254712345678")
    numbers_run, tags_run, image_run, template_run, interactive_run = await send_all(
        bridge_yaml,
        (*waba, "--to", "+254712345678,+254798765432", "--text", "Hello from the API!"),
        (*waba, "--to", "tag:42,tag:57,+254798765432", "--text", "Hello! This is a test message"),
        (
            *waba,
            *one,
            "--type",
            "image",
            "--media-url",
            "https://example.com/image.jpg",
            "--text",
            "Check out this photo",
        ),
        (
            *waba,
            *one,
            "--type",
            "template",
            "--template-id",
            "123",
            "--language",
            "en_US",
            "--components",
            json.dumps(TEMPLATE_COMPONENTS),
        ),
        (*waba, *one, "--type", "interactive", "--interactive", f"@{interactive}"),
    )

    assert_all_sent(numbers_run, 2)
    assert_all_sent(tags_run, 3)  # one line per recipient we sent: two tags and a number
    for run in (image_run, template_run, interactive_run):
        assert_all_sent(run)
    state = emulators.autokonnect
    assert len(state.requests) == 5  # each send is ONE request, however many recipients
    assert all(r.headers["Authorization"] == f"Bearer {AK_KEY}" for r in state.requests)
    # "Multiple numbers": '"phone_number": ["+254712345678", "+254798765432"]'
    assert only(state, AK_PATH, message="Hello from the API!").body == {
        "phone_number": ["+254712345678", "+254798765432"],
        "type": "text",
        "message": "Hello from the API!",
    }
    # "Send to multiple tags + explicit numbers"
    assert only(state, AK_PATH, message="Hello! This is a test message").body == {
        "contact_tag_id": ["42", "57"],
        "phone_number": "+254798765432",
        "type": "text",
        "message": "Hello! This is a test message",
    }
    assert only(state, AK_PATH, type="image").body == {
        "phone_number": "+254712345678",
        "type": "image",
        "link": "https://example.com/image.jpg",
        "caption": "Check out this photo",
    }
    assert only(state, AK_PATH, type="template").body == {
        "phone_number": "+254712345678",
        "type": "template",
        "template_id": 123,  # "template_id | number"
        "language": "en_US",
        "components": TEMPLATE_COMPONENTS,
    }
    assert only(state, AK_PATH, type="interactive").body == {
        "phone_number": "+254712345678",
        "type": "interactive",
        "interactive": INTERACTIVE_BUTTONS,
    }


# --- Kaleyra -------------------------------------------------------------------------------------


async def test_send_kaleyra_delivers_the_doc_sample(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    run = await send(
        bridge_yaml,
        "--channel",
        "india-wa",
        "--to",
        "+919876543210",
        "--text",
        "This is the sample message",
    )

    assert_all_sent(run)
    [request] = emulators.kaleyra.requests
    # "https://<api_domain>/v2/<sid>/whatsapp/<phone_number>/messages", header 'api-key: ...'
    assert request.path == f"/v2/{KAL_SID}/whatsapp/{KAL_FROM}/messages"
    assert request.headers["api-key"] == KAL_KEY
    assert request.headers["Content-Type"] == "application/json"
    request_id = re.search(r"request (R\w{8})$", run.out, re.M)
    assert request_id is not None
    assert request.body == {
        "messaging_object": {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+919876543210",
            "type": "text",
            # The sample's "false" is a string; the table says Boolean (the reading chosen).
            "text": {"preview_url": False, "body": "This is the sample message"},
        },
        "extra_info": {"ref": f"{request_id.group(1)}-1", "wa_source": "api"},
    }
    message_id = emulators.kaleyra.deliveries[0].message_id
    assert run.outcome_lines[0].split() == ["sent", "+919876543210", "id", str(message_id)]
