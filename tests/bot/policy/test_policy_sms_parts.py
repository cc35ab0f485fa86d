"""Policy refuses an SMS over ``max_sms_parts`` (default 6, per channel if set) before anything is
recorded or sent, and counts only SMS channels: WhatsApp has its own text limits."""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from bot.policy import Rejection, plan_send
from bot.requests import SendRequest
from config import Settings
from providers.base import Message

CONFIG = """\
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}
channels:
  oncall-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    to: ["+254712345678"]
    allowed_senders: [U0SRE0001]
  short-sms:
    provider: tnt
    service: sms
    to: ["+254712345678"]
    allowed_senders: [U0SRE0001]
    max_sms_parts: 1
  ops-wa:
    provider: tnt
    service: whatsapp
    session_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
    to: ["+254712345678"]
    allowed_senders: [U0SRE0001]
"""


def load(tmp_path: Path, text: str = CONFIG) -> Settings:
    path = tmp_path / "bridge.yaml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, {"TNT_KEY": "k1"})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load(tmp_path)


def plan(settings: Settings, channel: str, text: str) -> None:
    request = SendRequest(channel=channel, message=Message(text=text))
    plan_send(settings, request, sender=None, request_id="R0000TEST")


def test_a_40000_character_sms_is_refused_with_the_count(settings: Settings) -> None:
    with pytest.raises(Rejection) as caught:
        plan(settings, "oncall-sms", "x" * 40_000)
    assert caught.value.plain.startswith(
        "This SMS to `oncall-sms` is 262 parts (GSM-7); the limit is 6. "
        "Shorten it to at most 918 characters"
    )
    assert caught.value.field == "text"


def test_a_curly_quote_is_named_as_what_forced_ucs2(settings: Settings) -> None:
    text = "Disk full ’ on db-1. " + "x" * 450  # 471 characters: 4 parts GSM-7, 8 in UCS-2
    with pytest.raises(Rejection) as caught:
        plan(settings, "oncall-sms", text)
    assert caught.value.plain == (
        "This SMS to `oncall-sms` is 8 parts (UCS-2 because of '’' at position 11); the limit "
        "is 6. Shorten it or replace '’' with \"'\": it would then fit."
    )


def test_six_parts_is_the_default_limit(settings: Settings) -> None:
    assert settings.defaults.max_sms_parts == 6
    plan(settings, "oncall-sms", "x" * 918)
    with pytest.raises(Rejection):
        plan(settings, "oncall-sms", "x" * 919)


def test_a_channel_may_set_its_own_limit(settings: Settings) -> None:
    plan(settings, "short-sms", "x" * 160)
    with pytest.raises(Rejection) as caught:
        plan(settings, "short-sms", "x" * 161)
    assert "is 2 parts (GSM-7); the limit is 1. Shorten it to at most 160" in caught.value.plain


def test_defaults_set_the_limit_for_every_sms_channel(tmp_path: Path) -> None:
    settings = load(tmp_path, "defaults:\n  max_sms_parts: 2\n" + CONFIG)
    plan(settings, "oncall-sms", "x" * 306)
    with pytest.raises(Rejection):
        plan(settings, "oncall-sms", "x" * 307)


def test_whatsapp_is_not_counted_in_sms_parts(settings: Settings) -> None:
    plan(settings, "ops-wa", "’" * 4000)


def test_max_sms_parts_on_a_whatsapp_channel_is_a_config_problem(tmp_path: Path) -> None:
    text = CONFIG + "    max_sms_parts: 3\n"  # appended to ops-wa
    with pytest.raises(config.ConfigError) as caught:
        load(tmp_path, text)
    assert "channels.ops-wa.max_sms_parts" in str(caught.value)
    assert "only sms channels" in str(caught.value)
