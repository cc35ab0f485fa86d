"""Kaleyra local validation (nothing reaches the emulator) and the account config's pods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.kaleyra import KaleyraState, create_app
from pydantic import ValidationError

from providers.base import InvalidMessage, Message, MessageType, Recipient, Route, Service
from providers.kaleyra import Kaleyra, KaleyraConfig

# Workaround until common.serve passes shutdown_timeout to AppRunner (aiohttp 3.14 deprecation).

SID = "HXAP16XXXXXX97IN"
KEY = "Akaleyra0secret0key0for0tests0003"
ROUTE = Route(service=Service.WHATSAPP, from_number="+919000000001")
TO = Recipient(address="+919812345678", ref="r1")
TEXT = Message(text="hello")


@pytest.fixture
async def emulated(start_app: Any) -> AsyncIterator[tuple[KaleyraState, Kaleyra]]:
    state = KaleyraState(api_key=KEY)
    server = await start_app(create_app(state))
    config = KaleyraConfig(type="kaleyra", api_key=KEY, sid=SID, base_url=server.url)
    async with aiohttp.ClientSession() as session:
        yield state, Kaleyra(config, session)


@pytest.mark.parametrize(
    ("route", "message", "recipients", "words"),
    [
        pytest.param(
            ROUTE,
            Message(type=MessageType.IMAGE, media_url="https://x.example/a.png"),
            [TO],
            "Kaleyra takes text messages only, not image",
            id="image",
        ),
        pytest.param(
            ROUTE,
            Message(type=MessageType.TEMPLATE, template_id="t1"),
            [TO],
            "text messages only, not template",
            id="template",
        ),
        pytest.param(ROUTE, Message(text=None), [TO], "text is empty", id="no-text"),
        pytest.param(ROUTE, Message(text=""), [TO], "text is empty", id="empty-text"),
        pytest.param(ROUTE, Message(text="  \n "), [TO], "text is empty", id="blank-text"),
        # "Message body text. Supports URLs. Maximum 4096 characters." — longer is rejected.
        pytest.param(
            ROUTE, Message(text="x" * 4097), [TO], "4097 characters; Kaleyra takes at most 4096",
            id="text-too-long",
        ),
        # "ref ... can be 255 characters long only" (yet "will be truncated"): reject, so the
        # callback's ref always matches ours.
        pytest.param(
            ROUTE, TEXT, [Recipient(address="+919812345678", ref="r" * 256)],
            "ref is 256 characters; Kaleyra keeps at most 255", id="ref-too-long",
        ),
        pytest.param(
            ROUTE, TEXT, [Recipient(address="120363410923125768@g.us")],
            "phone numbers only, not a group", id="group",
        ),
        pytest.param(ROUTE, TEXT, [Recipient(address="tag:42")], "not a tag", id="tag"),
        pytest.param(
            ROUTE, TEXT, [Recipient(address="0712345678")], "not a phone number in E.164",
            id="not-e164",
        ),
        pytest.param(ROUTE, TEXT, [], "one recipient per request, got 0", id="no-recipient"),
        pytest.param(
            ROUTE, TEXT, [TO, Recipient(address="+919812345679")],
            "one recipient per request, got 2", id="two-recipients",
        ),
        pytest.param(
            Route(service=Service.WHATSAPP), TEXT, [TO], "business number", id="no-from"
        ),
        pytest.param(
            Route(service=Service.WHATSAPP, from_number="9000000001"), TEXT, [TO],
            "must be E.164", id="from-not-e164",
        ),
        pytest.param(
            Route(service=Service.SMS, from_number="+919000000001"), TEXT, [TO],
            "no service 'sms'", id="sms",
        ),
    ],
)  # fmt: skip
async def test_send_rejects_locally_without_any_request(
    emulated: tuple[KaleyraState, Kaleyra],
    route: Route,
    message: Message,
    recipients: list[Recipient],
    words: str,
) -> None:
    state, adapter = emulated
    with pytest.raises(InvalidMessage) as caught:
        await adapter.send(route, message, recipients)

    assert words in caught.value.reason
    assert str(caught.value).startswith("Kaleyra: ")
    assert caught.value.status is None
    assert state.requests == []


async def test_send_accepts_text_and_ref_exactly_at_the_limits(
    emulated: tuple[KaleyraState, Kaleyra],
) -> None:
    state, adapter = emulated
    recipient = Recipient(address="+919812345678", ref="r" * 255)
    await adapter.send(ROUTE, Message(text="x" * 4096), [recipient])

    [delivery] = state.deliveries
    assert delivery.payload["extra_info"]["ref"] == "r" * 255
    assert len(delivery.payload["messaging_object"]["text"]["body"]) == 4096


@pytest.mark.parametrize(
    ("pod", "base"),
    [
        # "IN pod | api.in.kaleyra.io", "SG Pod | api.ap.kaleyra.io", "EU Pod | api.eu.kaleyra.io"
        ("in", "https://api.in.kaleyra.io"),
        ("sg", "https://api.ap.kaleyra.io"),
        ("eu", "https://api.eu.kaleyra.io"),
    ],
)
def test_config_pod_selects_the_documented_api_domain(pod: str, base: str) -> None:
    config = KaleyraConfig(type="kaleyra", api_key=KEY, sid=SID, pod=pod)
    assert config.api_base() == base


def test_config_base_url_overrides_and_loses_its_trailing_slash() -> None:
    config = KaleyraConfig(type="kaleyra", api_key=KEY, sid=SID, base_url="http://127.0.0.1:9/")
    assert config.api_base() == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({}, "set pod (in, sg or eu) or base_url"),
        ({"pod": "in", "base_url": "http://127.0.0.1:9"}, "set pod or base_url, not both"),
        ({"pod": "us"}, "pod"),
    ],
)
def test_config_needs_exactly_one_of_pod_or_base_url(extra: dict[str, str], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KaleyraConfig(type="kaleyra", api_key=KEY, sid=SID, **extra)
    assert words in str(caught.value)
    assert KEY not in str(caught.value)


def test_config_repr_hides_the_api_key() -> None:
    config = KaleyraConfig(type="kaleyra", api_key=KEY, sid=SID, pod="in")
    assert KEY not in repr(config)
    assert KEY not in str(config)
