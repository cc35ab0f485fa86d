"""Async provider adapters, usable without Slack. ``REGISTRY`` maps a config ``type`` to a class."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from providers.autokonnect import AutoKonnect, AutoKonnectConfig
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

__all__ = [
    "REGISTRY",
    "AnyProviderConfig",
    "AutoKonnect",
    "AutoKonnectConfig",
    "Kaleyra",
    "KaleyraConfig",
    "TalkNTalk",
    "TalkNTalkConfig",
]
