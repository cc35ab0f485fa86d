"""Async provider adapters, usable without Slack. ``providers.registry`` maps a config's
``type:`` to its provider; the names most callers need are re-exported here."""

from __future__ import annotations

from providers.autokonnect import AutoKonnect, AutoKonnectConfig
from providers.kaleyra import Kaleyra, KaleyraConfig
from providers.registry import PROVIDERS, REGISTRY, AnyProviderConfig, build_provider, receipts_for
from providers.talkntalk import TalkNTalk, TalkNTalkConfig

__all__ = [
    "PROVIDERS",
    "REGISTRY",
    "AnyProviderConfig",
    "AutoKonnect",
    "AutoKonnectConfig",
    "Kaleyra",
    "KaleyraConfig",
    "TalkNTalk",
    "TalkNTalkConfig",
    "build_provider",
    "receipts_for",
]
