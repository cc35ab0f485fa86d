"""The send and broadcast modals: fields follow the choices, typed values survive a rebuild."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bridge_sandbox.slack.blockkit import view_problems

from bot.policy import Sender, usable_channels
from bot.slack import ids
from bot.slack.forms import (
    BroadcastForm,
    ModalOrigin,
    SendForm,
    block_for_field,
    read_broadcast_form,
    read_send_form,
    split_numbers,
    template_components,
)
from bot.slack.modal_broadcast import broadcast_modal, broadcast_not_allowed
from bot.slack.modal_send import SMS_PARTS_BLOCK, send_modal
from config import ResolvedChannel, Settings
from providers.base import MessageType
from tests.bot.blocks_fixtures import block, block_ids, choose, settings

__all__ = ["settings"]

ALICE = Sender("U0ALICE001", frozenset(), "C0INCIDENT")
ORIGIN = ModalOrigin(surface="modal", slack_channel="C0INCIDENT")


def channels(settings: Settings) -> list[ResolvedChannel]:
    return usable_channels(settings, ALICE)


def modal(settings: Settings, form: SendForm | None = None) -> dict[str, Any]:
    view = send_modal(channels(settings), form or SendForm(), ORIGIN, confirm_over=10)
    assert view_problems(view) == []
    return view


def rebuild(settings: Settings, view: dict[str, Any]) -> dict[str, Any]:
    """What the listener does on a dispatch action: read the form, build the view again."""
    new = modal(settings, read_send_form(view))
    new["state"] = view.get("state", {"values": {}})  # Slack keeps the state across updates
    return new


def test_send_modal_offers_only_the_usable_channels(settings: Settings) -> None:
    view = modal(settings)
    assert view["callback_id"] == ids.SEND_MODAL
    channel = block(view, ids.CHANNEL_BLOCK)
    assert channel["dispatch_action"] is True
    offered = [o["value"] for o in channel["element"]["options"]]
    assert offered == [c.name for c in channels(settings)]
    elsewhere = Sender("U0ALICE001", frozenset(), "C0RANDOM01")
    other = send_modal(usable_channels(settings, elsewhere), SendForm(), ORIGIN, 10)
    assert "oncall-sms" not in [o["value"] for o in block(other, "channel")["element"]["options"]]


def test_first_channel_is_preselected_and_text_fields_shown(settings: Settings) -> None:
    view = modal(settings)
    first = channels(settings)[0].name
    assert block(view, ids.CHANNEL_BLOCK)["element"]["initial_option"]["value"] == first
    assert block_ids(view) == [
        ids.CHANNEL_BLOCK,
        f"{ids.TYPE_BLOCK}.{first}",
        ids.TEXT_BLOCK,
        SMS_PARTS_BLOCK,  # the first channel is an SMS one
        ids.CONFIRM_BLOCK,
    ]
    assert block(view, ids.TEXT_BLOCK)["label"]["text"] == "Message"


def test_type_select_lists_the_channel_types_without_interactive(settings: Settings) -> None:
    view = modal(settings, SendForm(channel="customers"))
    types = block(view, f"{ids.TYPE_BLOCK}.customers")
    assert types["dispatch_action"] is True
    assert [o["value"] for o in types["element"]["options"]] == [
        "text",
        "image",
        "document",
        "template",
    ]


def test_numbers_field_only_where_adhoc_is_allowed(settings: Settings) -> None:
    assert ids.NUMBERS_BLOCK not in block_ids(modal(settings, SendForm(channel="oncall-sms")))
    view = modal(settings, SendForm(channel="customers"))
    numbers = block(view, ids.NUMBERS_BLOCK)
    assert numbers["optional"] is True
    assert numbers["label"]["text"] == "Numbers (optional)"
    assert "INSTEAD of customers's own 1 recipients" in numbers["hint"]["text"]


def test_confirm_checkbox_is_always_shown_with_the_threshold(settings: Settings) -> None:
    confirm = block(modal(settings), ids.CONFIRM_BLOCK)
    assert confirm["optional"] is True
    assert confirm["element"]["options"][0]["text"]["text"] == "I'm sending to many people"
    assert "more than 10 people" in confirm["hint"]["text"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (MessageType.IMAGE, [ids.MEDIA_URL_BLOCK, ids.TEXT_BLOCK]),
        (
            MessageType.DOCUMENT,
            [ids.MEDIA_URL_BLOCK, ids.TEXT_BLOCK, ids.FILENAME_BLOCK, ids.MIME_BLOCK],
        ),
        (MessageType.TEMPLATE, [ids.TEMPLATE_BLOCK, ids.LANGUAGE_BLOCK, ids.VARIABLES_BLOCK]),
        (MessageType.TEXT, [ids.TEXT_BLOCK]),
    ],
)
def test_fields_follow_the_message_type(
    settings: Settings, kind: MessageType, expected: list[str]
) -> None:
    view = modal(settings, SendForm(channel="customers", type=kind))
    assert block_ids(view)[2:-2] == expected  # between type and numbers/confirm


def test_media_url_is_a_url_input_and_caption_optional(settings: Settings) -> None:
    view = modal(settings, SendForm(channel="customers", type=MessageType.IMAGE))
    assert block(view, ids.MEDIA_URL_BLOCK)["element"]["type"] == "url_text_input"
    caption = block(view, ids.TEXT_BLOCK)
    assert caption["label"]["text"] == "Caption"
    assert caption["optional"] is True


def test_a_type_the_new_channel_does_not_take_falls_back_to_its_first(settings: Settings) -> None:
    view = modal(settings, SendForm(channel="oncall-sms", type=MessageType.TEMPLATE))
    select = block(view, f"{ids.TYPE_BLOCK}.oncall-sms")["element"]
    assert select["initial_option"]["value"] == "text"


def test_private_metadata_carries_the_origin(settings: Settings) -> None:
    origin = ModalOrigin(surface="shortcut", slack_channel="C0INCIDENT", thread_ts="1767225000.1")
    view = send_modal(channels(settings), SendForm(), origin, 10)
    assert json.loads(view["private_metadata"]) == {
        "surface": "shortcut",
        "slack_channel": "C0INCIDENT",
        "thread_ts": "1767225000.1",
    }
    assert ModalOrigin.decode(view["private_metadata"]) == origin
    assert ModalOrigin.decode("not json") == ModalOrigin()


def test_prefilled_text_is_the_initial_value(settings: Settings) -> None:
    view = modal(settings, SendForm(text="Checkout error rate is 30%"))
    assert block(view, ids.TEXT_BLOCK)["element"]["initial_value"] == "Checkout error rate is 30%"
    # untouched by the person, the initial value is what is read back
    assert read_send_form(view).text == "Checkout error rate is 30%"


def test_typed_values_survive_a_channel_change(settings: Settings) -> None:
    view = modal(settings, SendForm(channel="customers"))
    choose(view, ids.TEXT_ACTION, "Disk full on db-1")
    choose(view, ids.NUMBERS_ACTION, "+254712345678")
    choose(view, ids.CHANNEL_ACTION, "sms-adhoc")
    new = rebuild(settings, view)
    assert block(new, ids.CHANNEL_BLOCK)["element"]["initial_option"]["value"] == "sms-adhoc"
    assert block(new, ids.TEXT_BLOCK)["element"]["initial_value"] == "Disk full on db-1"
    assert block(new, ids.NUMBERS_BLOCK)["element"]["initial_value"] == "+254712345678"
    form = read_send_form(new)
    assert (form.channel, form.text, form.numbers) == (
        "sms-adhoc",
        "Disk full on db-1",
        "+254712345678",
    )


def test_type_change_rebuilds_the_fields_and_keeps_the_text_as_caption(settings: Settings) -> None:
    view = modal(settings, SendForm(channel="customers"))
    choose(view, ids.TEXT_ACTION, "See the graph")
    choose(view, ids.TYPE_ACTION, "image")
    new = rebuild(settings, view)
    assert ids.MEDIA_URL_BLOCK in block_ids(new)
    assert block(new, ids.TEXT_BLOCK)["element"]["initial_value"] == "See the graph"
    choose(new, ids.MEDIA_URL_ACTION, "https://example.com/graph.png")
    message = read_send_form(new).message()
    assert message.type is MessageType.IMAGE
    assert message.media_url == "https://example.com/graph.png"
    assert message.text == "See the graph"


def test_stale_state_of_blocks_no_longer_shown_is_ignored(settings: Settings) -> None:
    view = modal(settings, SendForm(channel="customers"))
    choose(view, ids.NUMBERS_ACTION, "+254712345678")
    choose(view, ids.CHANNEL_ACTION, "oncall-sms")
    new = rebuild(settings, view)  # oncall-sms takes no numbers: the field is gone
    assert read_send_form(new).request().to == ()


def test_template_form_becomes_a_body_component(settings: Settings) -> None:
    view = modal(settings, SendForm(channel="customers", type=MessageType.TEMPLATE))
    choose(view, ids.TEMPLATE_ACTION, "outage_notice")
    choose(view, ids.VARIABLES_ACTION, "checkout\n\n10:02 UTC\n")
    message = read_send_form(view).message()
    assert message.template_id == "outage_notice"
    assert message.language == "en"
    assert message.components == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "checkout"},
                {"type": "text", "text": "10:02 UTC"},
            ],
        }
    ]


def test_document_form_carries_filename_and_mime_type(settings: Settings) -> None:
    form = SendForm(
        channel="customers",
        type=MessageType.DOCUMENT,
        media_url="https://example.com/r.pdf",
        filename="r.pdf",
        mime_type="application/pdf",
        text="",
    )
    message = form.message()
    assert (message.filename, message.mime_type, message.text) == ("r.pdf", "application/pdf", None)


def test_numbers_split_on_commas_and_newlines_keeping_inner_spaces() -> None:
    assert split_numbers("+254712345678, 0798 765 432\n\n tag:42;") == (
        "+254712345678",
        "0798 765 432",
        "tag:42",
    )
    assert template_components("  \n") is None


def test_confirm_box_is_read(settings: Settings) -> None:
    view = modal(settings)
    assert read_send_form(view).confirmed is False
    choose(view, ids.CONFIRM_ACTION, [ids.CONFIRM_VALUE])
    assert read_send_form(view).confirmed is True


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("channel", ids.CHANNEL_BLOCK),
        ("type", f"{ids.TYPE_BLOCK}.customers"),
        ("text", ids.TEXT_BLOCK),
        ("to", ids.NUMBERS_BLOCK),
        (None, ids.CHANNEL_BLOCK),
        ("media_url", ids.CHANNEL_BLOCK),  # not shown for a text message: falls back
    ],
)
def test_rejection_fields_map_to_blocks_in_the_view(
    settings: Settings, field: str | None, expected: str
) -> None:
    view = modal(settings, SendForm(channel="customers"))
    assert block_for_field(view, field) == expected


def test_no_usable_channel_gives_a_notice_instead_of_a_form(settings: Settings) -> None:
    view = send_modal([], SendForm(), ORIGIN, 10)
    assert view["callback_id"] == ids.NOTICE_MODAL
    assert "submit" not in view
    assert "allowed_senders" in repr(view)


# --- broadcast ----------------------------------------------------------------------------------


def presets(settings: Settings, *names: str) -> list[Any]:
    return [settings.broadcasts[n] for n in names]


def test_broadcast_with_one_preset_has_no_picker(settings: Settings) -> None:
    view = broadcast_modal(
        presets(settings, "oncall"), BroadcastForm(), settings.channels, 10, "alice"
    )
    assert view_problems(view) == []
    assert view["callback_id"] == ids.BROADCAST_MODAL
    assert ids.PRESET_BLOCK not in block_ids(view)
    assert json.loads(view["private_metadata"])["preset"] == "oncall"
    severity = block(view, f"{ids.SEVERITY_BLOCK}.oncall")["element"]
    assert [o["value"] for o in severity["options"]] == ["SEV1", "SEV2", "SEV3"]
    chans = block(view, f"{ids.CHANNELS_BLOCK}.oncall")["element"]
    assert [o["value"] for o in chans["initial_options"]] == ["oncall-sms", "noc-group"]
    preview = block(view, ids.PREVIEW_BLOCK)
    assert "[SEV1] …your message… (from alice)" in preview["elements"][0]["text"]
    assert ids.CONFIRM_BLOCK in block_ids(view)


def test_broadcast_with_two_presets_offers_a_picker_that_dispatches(settings: Settings) -> None:
    both = presets(settings, "oncall", "customers-outage")
    view = broadcast_modal(both, BroadcastForm(), settings.channels, 10, "alice")
    picker = block(view, ids.PRESET_BLOCK)
    assert picker["dispatch_action"] is True
    assert [o["value"] for o in picker["element"]["options"]] == ["oncall", "customers-outage"]
    choose(view, ids.PRESET_ACTION, "customers-outage")
    choose(view, ids.TEXT_ACTION, "Checkout down")
    form = read_broadcast_form(view)
    new = broadcast_modal(both, form, settings.channels, 10, "alice")
    assert f"{ids.SEVERITY_BLOCK}.customers-outage" in block_ids(new)
    chans = block(new, f"{ids.CHANNELS_BLOCK}.customers-outage")["element"]
    assert [o["value"] for o in chans["initial_options"]] == ["customers"]
    assert block(new, ids.TEXT_BLOCK)["element"]["initial_value"] == "Checkout down"
    assert "major: Checkout down" in repr(block(new, ids.PREVIEW_BLOCK))


def test_broadcast_form_reads_severity_channels_and_confirm(settings: Settings) -> None:
    view = broadcast_modal(presets(settings, "oncall"), BroadcastForm(), settings.channels, 10, "a")
    choose(view, ids.SEVERITY_ACTION, "SEV2")
    choose(view, ids.CHANNELS_ACTION, ["noc-group"])
    choose(view, ids.CONFIRM_ACTION, [ids.CONFIRM_VALUE])
    form = read_broadcast_form(view)
    assert form == BroadcastForm(
        preset="oncall", severity="SEV2", text="", channels=("noc-group",), confirmed=True
    )


def test_broadcast_untouched_channels_default_to_the_preset(settings: Settings) -> None:
    view = broadcast_modal(presets(settings, "oncall"), BroadcastForm(), settings.channels, 10, "a")
    assert read_broadcast_form(view).channels == ("oncall-sms", "noc-group")


def test_not_allowed_to_broadcast_says_who_may(settings: Settings) -> None:
    view = broadcast_not_allowed(list(settings.broadcasts.values()))
    assert view_problems(view) == []
    shown = repr(view)
    assert "not allowed" in shown
    assert "*On-call broadcast*: `sre`" in shown
    assert "<@U0ALICE001>" in shown
