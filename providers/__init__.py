"""Async provider adapters, usable without Slack. ``REGISTRY`` maps a config ``type`` to a class."""

from __future__ import annotations

from typing import Annotated

import aiohttp
from pydantic import Field

from providers.autokonnect import AutoKonnect, AutoKonnectConfig
from providers.base import Provider
from providers.kaleyra import Kaleyra, KaleyraConfig
from providers.talkntalk import TalkNTalk, TalkNTalkConfig

AnyProviderConfig = Annotated[
    TalkNTalkConfig | AutoKonnectConfig | KaleyraConfig, Field(discriminator="type")
]

REGISTRY: dict[str, type[TalkNTalk] | type[AutoKonnect] | type[Kaleyra]] = {
    "talkntalk": TalkNTalk,
    "autokonnect": AutoKonnect,
    "kaleyra": Kaleyra,
}


def build_provider(config: AnyProviderConfig, session: aiohttp.ClientSession) -> Provider:
    """The adapter for an account's config, sharing the caller's session."""
    if isinstance(config, TalkNTalkConfig):
        return TalkNTalk(config, session)
    if isinstance(config, AutoKonnectConfig):
        return AutoKonnect(config, session)
    return Kaleyra(config, session)


__all__ = [
    "REGISTRY",
    "AnyProviderConfig",
    "AutoKonnect",
    "AutoKonnectConfig",
    "Kaleyra",
    "KaleyraConfig",
    "TalkNTalk",
    "TalkNTalkConfig",
    "build_provider",
]
