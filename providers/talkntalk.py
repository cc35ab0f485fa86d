"""TalkNTalk: SMS, WhatsApp to one number, and WhatsApp groups (provider-docs/talkntalk-*.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from providers.base import MessageType, ProviderAccountConfig, Route, Service

DEFAULT_BASE_URL = "https://api.talkntalk.africa"


class TalkNTalkConfig(ProviderAccountConfig):
    """A TalkNTalk organisation's account. The doc limits SMS to 300 requests/minute."""

    type: Literal["talkntalk"]


class TalkNTalk:
    """Adapter for one TalkNTalk account; one recipient per request, as every endpoint takes."""

    type_name: ClassVar[str] = "talkntalk"
    display_name: ClassVar[str] = "TalkNTalk"
    services: ClassVar[frozenset[Service]] = frozenset(
        {Service.SMS, Service.WHATSAPP, Service.WHATSAPP_GROUP}
    )
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]] = {
        Service.SMS: frozenset({MessageType.TEXT}),
        # "text, image, video, voice, or file"
        Service.WHATSAPP: frozenset(
            {
                MessageType.TEXT,
                MessageType.IMAGE,
                MessageType.VIDEO,
                MessageType.AUDIO,
                MessageType.DOCUMENT,
            }
        ),
        # "text, image, video, or voice"
        Service.WHATSAPP_GROUP: frozenset(
            {MessageType.TEXT, MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO}
        ),
    }
    max_recipients_per_call: ClassVar[int] = 1
    text_limit: ClassVar[Mapping[Service, int]] = {}
    default_rate_per_minute: ClassVar[int | None] = 300

    @classmethod
    def route_problems(cls, route: Route) -> list[str]:
        problems: list[str] = []
        if route.service not in cls.services:
            problems.append(f"TalkNTalk has no service {route.service.value!r}")
        elif route.service is Service.SMS:
            if route.session_id:
                problems.append("session_id is for WhatsApp; an sms channel takes sender_id")
        elif not route.session_id:
            problems.append(
                f"a {route.service.value} channel needs session_id (the chat_id from List Phones)"
            )
        if route.waba_id or route.from_number:
            problems.append("waba_id and from are not TalkNTalk settings")
        return problems
