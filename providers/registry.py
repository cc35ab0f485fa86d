"""The one place that maps a config's ``type:`` to a provider, and everything derived from that
map: the config union pydantic discriminates on, the adapter for an account, its receipts.

Adding a provider means adding its class to ``PROVIDERS`` and its config to the static union
below (mypy needs it spelled out; pydantic's is derived from ``PROVIDERS`` at runtime).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Union

import aiohttp
from pydantic import Field

from providers.autokonnect import AutoKonnect, AutoKonnectConfig
from providers.base import Provider
from providers.kaleyra import Kaleyra, KaleyraConfig
from providers.receipts import AccountReceipts
from providers.talkntalk import TalkNTalk, TalkNTalkConfig

ProviderClass = type[TalkNTalk] | type[AutoKonnect] | type[Kaleyra]

PROVIDERS: tuple[ProviderClass, ...] = (TalkNTalk, AutoKonnect, Kaleyra)

REGISTRY: Mapping[str, ProviderClass] = {kind.type_name: kind for kind in PROVIDERS}

if TYPE_CHECKING:
    AnyProviderConfig = Annotated[
        TalkNTalkConfig | AutoKonnectConfig | KaleyraConfig, Field(discriminator="type")
    ]
else:
    AnyProviderConfig = Annotated[
        Union[tuple(kind.config_model for kind in PROVIDERS)],  # noqa: UP007
        Field(discriminator="type"),
    ]


def provider_class(config: AnyProviderConfig) -> ProviderClass:
    """The provider an account's config belongs to, by its ``type``."""
    return REGISTRY[config.type]


def build_provider(config: AnyProviderConfig, session: aiohttp.ClientSession) -> Provider:
    """The adapter for an account's config, sharing the caller's session."""
    return provider_class(config).for_account(config, session)


def receipts_for(account: str, config: AnyProviderConfig) -> AccountReceipts:
    """How this account's delivery callbacks are checked and read; ``NoReceipts`` if they
    cannot be (the provider cannot report, or the account has no webhook secret)."""
    return provider_class(config).receipts.for_account(account, config)
