"""AutoKonnect WhatsApp Business (provider-docs/autokonnect-waba-messages.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field

from providers.base import MessageType, ProviderAccountConfig, Route, Service

DEFAULT_BASE_URL = "https://app.autokonnect.co.ke"


class AutoKonnectConfig(ProviderAccountConfig):
    """An AutoKonnect company account. The doc sets no batch size; we cap one request's numbers."""

    type: Literal["autokonnect"]
    max_batch: int = Field(default=1000, ge=1, le=10000)


class AutoKonnect:
    """Adapter for one AutoKonnect account: all numbers and tags go in ONE request."""

    type_name: ClassVar[str] = "autokonnect"
    display_name: ClassVar[str] = "AutoKonnect"
    services: ClassVar[frozenset[Service]] = frozenset({Service.WABA})
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]] = {
        Service.WABA: frozenset(MessageType),
    }
    max_recipients_per_call: ClassVar[int] = 1000  # per-instance: config.max_batch
    text_limit: ClassVar[Mapping[Service, int]] = {}
    default_rate_per_minute: ClassVar[int | None] = None  # "depend on your WABA tier settings"

    @classmethod
    def route_problems(cls, route: Route) -> list[str]:
        problems: list[str] = []
        if route.service not in cls.services:
            problems.append(f"AutoKonnect has no service {route.service.value!r}; use waba")
        if not route.waba_id:
            problems.append("a waba channel needs waba_id (the WABA channel ID in the URL)")
        if route.sender_id or route.session_id or route.from_number:
            problems.append("sender_id, session_id and from are not AutoKonnect settings")
        return problems
