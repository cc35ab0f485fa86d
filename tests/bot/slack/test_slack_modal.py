"""The send modal end to end: open, fields follow the choices, inline errors, submit, resubmit."""

from __future__ import annotations

from typing import Any

from bridge_sandbox.slack import payloads

from bot.slack import ids
from tests.bot.bridge_kit import INCIDENTS, Bridge
from tests.bot.slack_steps import deliveries, nothing_sent, roots, send


async def open_modal(bridge: Bridge) -> dict[str, Any]:
    status, _ = await bridge.user.slash("/send", "")
    assert status == 200
    return await bridge.slack.wait_for(lambda s: s.last_view())


async def choose(bridge: Bridge, view_id: str, action_id: str, value: Any) -> dict[str, Any]:
    """A choice in a dispatching select; returns the view once the bridge has updated it."""
    updates = len(bridge.slack.calls_to("views.update"))
    status, _ = await bridge.user.choose(view_id, action_id, value)
    assert status == 200
    await bridge.slack.wait_for(lambda s: len(s.calls_to("views.update")) > updates)
    assert bridge.slack.calls_to("views.update")[-1].error is None
    return bridge.slack.views[view_id]


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    chosen: dict[str, Any] = found["element"]
    return chosen


async def test_modal_offers_the_channels_usable_in_this_slack_channel(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    assert view["callback_id"] == ids.SEND_MODAL
    offered = [o["value"] for o in element(view, ids.CHANNEL_BLOCK)["options"]]
    assert offered == [
        "oncall-sms",
        "sms-adhoc",
        "everyone-sms",
        "noc-group",
        "customers",
        "india-wa",
    ]


async def test_channel_change_updates_types_and_shows_numbers_keeping_text(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    payloads.fill_view(bridge.slack, view["id"], {ids.TEXT_BLOCK: "Checkout is down"})
    view = await choose(bridge, view["id"], ids.CHANNEL_ACTION, "customers")
    assert f"{ids.TYPE_BLOCK}.customers" in block_ids(view)
    assert ids.NUMBERS_BLOCK in block_ids(view)
    types = [o["value"] for o in element(view, f"{ids.TYPE_BLOCK}.customers")["options"]]
    assert types == ["text", "image", "document", "template"]
    assert element(view, ids.TEXT_BLOCK)["initial_value"] == "Checkout is down"


async def test_type_change_shows_the_fields_of_that_type(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    view = await choose(bridge, view["id"], ids.CHANNEL_ACTION, "customers")
    view = await choose(bridge, view["id"], ids.TYPE_ACTION, "template")
    assert {ids.TEMPLATE_BLOCK, ids.LANGUAGE_BLOCK, ids.VARIABLES_BLOCK} <= set(block_ids(view))
    view = await choose(bridge, view["id"], ids.TYPE_ACTION, "document")
    assert {ids.MEDIA_URL_BLOCK, ids.FILENAME_BLOCK, ids.MIME_BLOCK} <= set(block_ids(view))
    assert ids.TEMPLATE_BLOCK not in block_ids(view)


async def test_submit_sends_and_reports_in_the_channel(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    status, ack = await bridge.user.submit(view["id"], {ids.TEXT_BLOCK: "Disk full on db-1"})
    assert (status, ack) == (200, None)  # an empty ack closes the modal
    assert view["id"] in bridge.slack.closed_views
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ["254712345678", "254798765432"]
    assert len(roots(bridge, INCIDENTS)) == 1


async def test_template_submission_sends_the_variables_as_a_body_component(
    bridge: Bridge,
) -> None:
    view = await open_modal(bridge)
    view = await choose(bridge, view["id"], ids.CHANNEL_ACTION, "customers")
    view = await choose(bridge, view["id"], ids.TYPE_ACTION, "template")
    values = {
        ids.TEMPLATE_BLOCK: "1042",
        ids.VARIABLES_BLOCK: "checkout\n10:02 UTC",
        ids.NUMBERS_BLOCK: "+254712345678",
    }
    status, ack = await bridge.user.submit(view["id"], values)
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: bridge.emulators.autokonnect.requests)
    await bridge.idle()
    body = repr(bridge.emulators.autokonnect.requests[0].body)
    assert "1042" in body
    assert "checkout" in body
    assert "10:02 UTC" in body


async def test_provider_validation_is_shown_inline_on_the_template_field(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    view = await choose(bridge, view["id"], ids.CHANNEL_ACTION, "customers")
    view = await choose(bridge, view["id"], ids.TYPE_ACTION, "template")
    _, ack = await bridge.user.submit(view["id"], {ids.TEMPLATE_BLOCK: "outage_notice"})
    assert ack["response_action"] == "errors"
    assert "template_id must be a number" in ack["errors"][ids.TEMPLATE_BLOCK]
    await nothing_sent(bridge)


async def test_invalid_number_is_shown_inline_and_nothing_is_sent(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    view = await choose(bridge, view["id"], ids.CHANNEL_ACTION, "sms-adhoc")
    values = {ids.TEXT_BLOCK: "Hello", ids.NUMBERS_BLOCK: "+2541234567"}
    status, ack = await bridge.user.submit(view["id"], values)
    assert status == 200
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [ids.NUMBERS_BLOCK]
    assert "`+2541234567` is not a valid number" in ack["errors"][ids.NUMBERS_BLOCK]
    assert view["id"] not in bridge.slack.closed_views  # the modal stays open to fix it
    await nothing_sent(bridge)


async def test_empty_text_is_shown_inline(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    _, ack = await bridge.user.submit(view["id"], {ids.TEXT_BLOCK: "   "})
    assert ack == {
        "response_action": "errors",
        "errors": {ids.TEXT_BLOCK: "The message is empty. Write the text to send."},
    }
    await nothing_sent(bridge)


async def test_a_type_the_channel_does_not_take_is_shown_on_the_type_field(
    bridge: Bridge,
) -> None:
    view = await open_modal(bridge)
    forged = {  # a stale or forged choice: the modal itself never offers it
        f"{ids.TYPE_BLOCK}.oncall-sms": {
            ids.TYPE_ACTION: {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Video"},
                    "value": "video",
                },
            }
        },
        ids.MEDIA_URL_BLOCK: "https://example.com/v.mp4",
    }
    view["blocks"].append(  # the media block, as if the view had shown it
        {
            "type": "input",
            "block_id": ids.MEDIA_URL_BLOCK,
            "label": {"type": "plain_text", "text": "Media URL"},
            "element": {"type": "url_text_input", "action_id": ids.MEDIA_URL_ACTION},
        }
    )
    _, ack = await bridge.user.submit(view["id"], forged)
    assert ack["response_action"] == "errors"
    assert "does not take video messages" in ack["errors"][f"{ids.TYPE_BLOCK}.oncall-sms"]
    await nothing_sent(bridge)


async def test_over_confirm_over_needs_the_box_ticked(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    view = await choose(bridge, view["id"], ids.CHANNEL_ACTION, "everyone-sms")
    status, ack = await bridge.user.submit(view["id"], {ids.TEXT_BLOCK: "Office closed"})
    assert ack == {
        "response_action": "errors",
        "errors": {
            ids.CONFIRM_BLOCK: (
                "This sends to 12 people (SMS: 1 part, GSM-7, to each) — tick to confirm."
            )
        },
    }
    await nothing_sent(bridge)
    status, ack = await bridge.user.submit(view["id"], {ids.CONFIRM_BLOCK: [ids.CONFIRM_VALUE]})
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 12)


async def test_double_submit_sends_once(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    values = {ids.TEXT_BLOCK: "Disk full on db-1"}
    first = payloads.view_submission(bridge.slack, view["id"], values)
    second = payloads.view_submission(bridge.slack, view["id"], values)
    assert await send(bridge, first) == 200
    assert await send(bridge, second) == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) >= 2)
    await bridge.idle()
    assert len(deliveries(bridge)) == 2
    assert len(roots(bridge)) == 1


async def test_closing_the_modal_is_acknowledged(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    status, ack = await bridge.user.cancel(view["id"])
    assert (status, ack) == (200, None)
    await nothing_sent(bridge)


async def test_a_contact_tag_needs_the_box_ticked_whatever_the_count(bridge: Bridge) -> None:
    view = await open_modal(bridge)
    view = await choose(bridge, view["id"], ids.CHANNEL_ACTION, "customers")
    status, ack = await bridge.user.submit(view["id"], {ids.TEXT_BLOCK: "Your order shipped"})
    assert ack == {
        "response_action": "errors",
        "errors": {
            ids.CONFIRM_BLOCK: "This sends to everyone tagged 42 in AutoKonnect — tick to confirm."
        },
    }
    await nothing_sent(bridge)
    status, ack = await bridge.user.submit(view["id"], {ids.CONFIRM_BLOCK: [ids.CONFIRM_VALUE]})
    assert (status, ack) == (200, None)
    await bridge.slack.wait_for(lambda s: len(bridge.emulators.autokonnect.deliveries) == 3)
