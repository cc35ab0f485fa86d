"""Receipt settings in the YAML: secrets from the environment only; the example documents them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import config
from config import ConfigError
from providers import KaleyraConfig, TalkNTalkConfig

EXAMPLE = Path(config.__file__).with_name("bridge.example.yaml")
ENV = {
    "TALKNTALK_API_KEY": "tnt-example-key-1",
    "AUTOKONNECT_API_KEY": "ak-example-key-2",
    "KALEYRA_API_KEY": "kal-example-key-3",
    "TNT_WEBHOOK_SECRET": "tnt-webhook-secret-4",
    "KALEYRA_WEBHOOK_SECRET": "kal-webhook-secret-5",
}
LITERAL = "whsec_LiteralInTheFile"


def uncommented(*keys: str) -> str:
    """The example with the commented-out receipt settings for ``keys`` switched on."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in keys:
        text, n = re.subn(rf"^(\s*)# ({key}: \S+)", r"\1\2", text, flags=re.MULTILINE)
        assert n == (2 if key == "webhook_secret" else 1), key
    return text


def load_text(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "bridge.yaml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, ENV)


def test_example_receipt_settings_load_with_secrets_from_the_environment(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path, uncommented("webhook_secret", "webhook_header", "webhook_username")
    )
    tnt, kal = settings.provider("tnt"), settings.provider("kal")
    assert isinstance(tnt, TalkNTalkConfig)
    assert isinstance(kal, KaleyraConfig)
    assert tnt.webhook_secret is not None
    assert tnt.webhook_secret.get_secret_value() == "tnt-webhook-secret-4"
    assert kal.webhook_secret is not None
    assert kal.webhook_secret.get_secret_value() == "kal-webhook-secret-5"
    assert (kal.webhook_header, kal.webhook_username) == ("X-Webhook-Secret", "kaleyra")
    assert "kal-webhook-secret-5" not in repr(settings)


def test_receipts_are_off_unless_configured(tmp_path: Path) -> None:
    settings = load_text(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    kal = settings.provider("kal")
    assert isinstance(kal, KaleyraConfig)
    assert settings.provider("tnt").webhook_secret is None  # type: ignore[union-attr]
    assert (kal.webhook_secret, kal.webhook_header, kal.webhook_username) == (
        None,
        "X-Webhook-Secret",
        None,
    )


def test_a_webhook_secret_written_in_the_file_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    text = uncommented("webhook_secret").replace("${TNT_WEBHOOK_SECRET}", LITERAL)
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    (problem,) = caught.value.problems
    assert problem.path == "providers.tnt.webhook_secret"
    assert "must come from the environment" in problem.message
    assert LITERAL not in str(caught.value)


def test_a_webhook_secret_whose_variable_is_unset_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text(uncommented("webhook_secret"), encoding="utf-8")
    env = {k: v for k, v in ENV.items() if k != "KALEYRA_WEBHOOK_SECRET"}
    with pytest.raises(ConfigError) as caught:
        config.load(path, env)
    assert {p.path for p in caught.value.problems} == {"providers.kal.webhook_secret"}
