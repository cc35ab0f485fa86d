"""The registry is the one map from a config's ``type:`` to its provider; the rest derives."""

from __future__ import annotations

import typing

import aiohttp
import pytest
from pydantic import SecretStr

from providers import PROVIDERS, REGISTRY, AnyProviderConfig, build_provider, receipts_for
from providers.autokonnect import CANNOT_REPORT, AutoKonnectConfig
from providers.kaleyra import KaleyraConfig
from providers.receipts import NoReceipts
from providers.talkntalk import TalkNTalkConfig

CONFIGS: list[AnyProviderConfig] = [
    TalkNTalkConfig(type="talkntalk", api_key=SecretStr("k")),
    AutoKonnectConfig(type="autokonnect", api_key=SecretStr("k")),
    KaleyraConfig(type="kaleyra", api_key=SecretStr("k"), sid="HXAP16XXXXXX97IN", pod="in"),
]


def test_the_config_union_is_the_registry_s_config_models() -> None:
    union, _discriminator = typing.get_args(AnyProviderConfig)
    assert set(typing.get_args(union)) == {kind.config_model for kind in PROVIDERS}
    for name, kind in REGISTRY.items():
        annotation = kind.config_model.model_fields["type"].annotation
        assert typing.get_origin(annotation) is typing.Literal
        assert typing.get_args(annotation) == (name,)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.type)
async def test_build_provider_takes_the_class_the_registry_names(config: AnyProviderConfig) -> None:
    async with aiohttp.ClientSession() as session:
        adapter = build_provider(config, session)
    assert type(adapter) is REGISTRY[config.type]


def test_an_adapter_refuses_another_provider_s_config() -> None:
    with pytest.raises(TypeError, match="TalkNTalkConfig"):
        REGISTRY["talkntalk"].for_account(CONFIGS[1], None)  # type: ignore[arg-type]


def test_receipts_come_from_what_the_provider_declares() -> None:
    with pytest.raises(NoReceipts) as cannot:
        receipts_for("ak", CONFIGS[1])
    assert str(cannot.value) == CANNOT_REPORT
    for config in (CONFIGS[0], CONFIGS[2]):  # no webhook_secret: refused when a callback comes
        source = receipts_for("acct", config)
        with pytest.raises(NoReceipts, match="set webhook_secret"):
            source.authenticate({}, b"{}")
