"""The example config is documentation: it must load and resolve to what its comments say."""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from config import Settings
from config.describe import describe
from config.jsonschema import ACCOUNT_FIELDS, REGENERATE, SCHEMA_PATH, render
from providers import AutoKonnectConfig, KaleyraConfig, TalkNTalkConfig
from providers.base import MessageType, Route, Service

EXAMPLE = Path(config.__file__).with_name("bridge.example.yaml")
ENV = {
    "TALKNTALK_API_KEY": "tnt-example-key-1",
    "AUTOKONNECT_API_KEY": "ak-example-key-2",
    "KALEYRA_API_KEY": "kal-example-key-3",
}


@pytest.fixture
def settings() -> Settings:
    return config.load(EXAMPLE, ENV)


def test_example_providers_resolve_with_keys_from_the_environment(settings: Settings) -> None:
    tnt, ak, kal = settings.provider("tnt"), settings.provider("ak"), settings.provider("kal")
    assert isinstance(tnt, TalkNTalkConfig)
    assert isinstance(ak, AutoKonnectConfig)
    assert isinstance(kal, KaleyraConfig)
    assert tnt.api_key.get_secret_value() == "tnt-example-key-1"
    assert kal.api_base() == "https://api.in.kaleyra.io"
    assert settings.defaults.country == "KE"
    assert ak.max_batch == 1000  # documented in the example, the schema and the README


def test_every_account_key_the_schema_hints_at_is_a_real_field() -> None:
    fields = {
        name
        for model in (TalkNTalkConfig, AutoKonnectConfig, KaleyraConfig)
        for name in model.model_fields
    }
    assert set(ACCOUNT_FIELDS) <= fields


def test_example_oncall_sms_reaches_the_oncall_list(settings: Settings) -> None:
    sms = settings.channel("oncall-sms")
    assert sms.provider_name == "tnt"
    assert sms.provider_type == "talkntalk"
    assert sms.route == Route(service=Service.SMS, sender_id="ACME")
    assert sms.recipients == ("+254712345678", "+254798765432")
    assert sms.message_types == frozenset({MessageType.TEXT})
    assert sms.allowed_users == frozenset({"U012ABCDEF"})
    assert sms.allowed_usergroups == frozenset({"S0SRE1234"})
    assert sms.slack_channels == ("C0INCIDENTS",)
    assert sms.allow_adhoc is False


def test_example_field_techs_include_the_oncall_list(settings: Settings) -> None:
    assert settings.contacts["field-techs"] == ("+254700000001", "+254712345678", "+254798765432")


def test_example_group_waba_and_kaleyra_channels(settings: Settings) -> None:
    group = settings.channel("noc-group")
    assert group.route.session_id == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert group.recipients == ("120363410923125768@g.us",)
    assert group.slack_channels is None
    customers = settings.channel("customers")
    assert customers.route == Route(service=Service.WABA, waba_id="123")
    assert customers.recipients == ("tag:42",)
    assert customers.allow_adhoc is True
    assert customers.message_types == frozenset(
        {MessageType.TEXT, MessageType.TEMPLATE, MessageType.IMAGE, MessageType.DOCUMENT}
    )
    assert customers.allowed_users == frozenset({"U0SUPPORT1"})
    india = settings.channel("india-wa")
    assert india.route == Route(service=Service.WHATSAPP, from_number="+918123456789")
    assert india.recipients == ()
    assert india.allow_adhoc is True


def test_example_broadcast(settings: Settings) -> None:
    preset = settings.broadcast("oncall")
    assert preset.title == "On-call broadcast"
    assert preset.channels == ("oncall-sms", "noc-group")
    assert preset.severities == ("SEV1", "SEV2", "SEV3")
    assert preset.announce_in == "C0INCIDENTS"
    assert preset.allowed_users == frozenset({"U012ABCDEF"})


def test_describe_shows_what_each_channel_reaches_without_secrets(settings: Settings) -> None:
    text = describe(settings)
    for secret in ENV.values():
        assert secret not in text
    assert "+254712345678" not in text  # numbers are masked
    assert "recipients       2: +2547••••5678, +2547••••5432" in text
    assert "https://api.talkntalk.africa (default)" in text
    assert "slack channels   anywhere" in text
    assert "ad-hoc numbers   yes" in text
    assert "message types    text, image, document, template" in text
    assert "sre → U012ABCDEF, usergroup:S0SRE1234" in text
    assert "oncall  “On-call broadcast”" in text


def test_describe_shortens_long_recipient_lists(tmp_path: Path) -> None:
    numbers = ", ".join(f'"+2547000000{i:02d}"' for i in range(1, 9))
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'oncall: ["+254712345678", "0798 765 432"]', f"oncall: [{numbers}]"
    )
    path = tmp_path / "bridge.yaml"
    path.write_text(text, encoding="utf-8")
    out = describe(config.load(path, ENV))
    assert "recipients       8: +2547••••0001" in out
    assert "… and 3 more" in out


def test_committed_json_schema_is_current() -> None:
    current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    assert current == render(), f"{SCHEMA_PATH.name} is out of date: run {REGENERATE}"


def test_json_schema_describes_the_file() -> None:
    import json

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$id"].endswith("bridge.schema.json")
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "defaults",
        "providers",
        "contacts",
        "senders",
        "channels",
        "broadcasts",
        "people",
        "schedules",
        "escalations",
        "integrations",
        "canaries",
        "heartbeats",
    }
    api_key = schema["$defs"]["TalkNTalkConfig"]["properties"]["api_key"]
    assert api_key["type"] == "string"
    assert "from" in schema["$defs"]["ChannelConfig"]["properties"]


def test_example_on_call_part_matches_its_comments() -> None:
    from datetime import UTC, datetime

    from config.schedules import handoffs, on_call

    now = datetime(2026, 11, 24, 17, tzinfo=UTC)  # Tue 20:00 in Nairobi: carol's override
    settings = config.load(EXAMPLE, ENV, now=now)
    assert settings.people["bob"].phone == "+254798765432"
    assert settings.contacts["sre-leads"] == ("+254712345678", "+254798765432")
    primary, secondary = settings.schedules["primary"], settings.schedules["secondary"]
    assert on_call(primary, now).person == "carol"  # type: ignore[union-attr]
    assert [s.person for s in handoffs(primary, now, 3)] == ["alice", "bob", "carol"]
    assert on_call(secondary, now).person == "carol"  # type: ignore[union-attr]
    steps = settings.escalations["db-outage"].steps
    assert [s.via for s in steps] == [
        ("oncall-wa", "oncall-sms"),
        ("oncall-sms",),
        ("oncall-sms", "noc-group"),
    ]
    text = describe(settings, now)
    assert "at Tue 2026-11-24 20:00  carol until Wed 2026-11-25 09:00" in text  # not "now"
    assert "now " not in text
    assert "Escalations (/send page NAME)" in text
    assert "not active yet" not in text
