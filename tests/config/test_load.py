"""Loading: YAML positions, interpolation, unknown keys and wrong types, reported with lines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import config
from config import ConfigError
from tests.config.helpers import PROVIDERS, load, one, problems

CHANNEL = (
    PROVIDERS
    + """\
channels:
  oncall-sms:
    provider: tnt
    service: sms
    to: ["+254712345678"]
    allowed_senders: [U012ABCDEF]
"""
)  # lines 13-18


def test_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, CHANNEL)
    assert settings.defaults.country == "KE"
    assert settings.defaults.confirm_over == 10
    assert settings.defaults.max_recipients == 1000
    assert settings.channel("oncall-sms").recipients == ("+254712345678",)
    assert settings.source == tmp_path / "bridge.yaml"


def test_interpolation_uses_the_environment_before_the_default(tmp_path: Path) -> None:
    text = CHANNEL + "    sender_id: ${SENDER_ID:-ACME}\n"
    assert load(tmp_path, text).channel("oncall-sms").route.sender_id == "ACME"
    env = {"TNT_KEY": "k1", "AK_KEY": "k2", "KAL_KEY": "k3", "SENDER_ID": "OPS"}
    assert load(tmp_path, text, env).channel("oncall-sms").route.sender_id == "OPS"


def test_interpolation_inside_text_and_dollar_escape(tmp_path: Path) -> None:
    text = CHANNEL + "    sender_id: ${PREFIX:-AC}ME$$\n"
    assert load(tmp_path, text).channel("oncall-sms").route.sender_id == "ACME$"


def test_missing_variable_without_default_names_it_and_its_line(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL + "    sender_id: ${SMS_SENDER}\n")
    assert problem.line == 19
    assert problem.path == "channels.oncall-sms.sender_id"
    assert "environment variable SMS_SENDER is not set" in problem.message
    assert "${SMS_SENDER:-value}" in problem.message


def test_missing_api_key_variable_is_reported_at_its_line(tmp_path: Path) -> None:
    env = {"AK_KEY": "k2", "KAL_KEY": "k3"}
    problem = one(tmp_path, CHANNEL, env)
    assert (problem.line, problem.path) == (4, "providers.tnt.api_key")
    assert "TNT_KEY is not set" in problem.message


def test_malformed_reference_is_reported(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL + "    sender_id: ${SENDER ID}\n")
    assert problem.line == 19
    assert "malformed reference" in problem.message


def test_unknown_top_level_key_is_reported_at_its_line(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL + "chanels: {}\n")
    assert (problem.line, problem.path) == (19, "chanels")
    assert "unknown key 'chanels' (did you mean 'channels'?)" in problem.message
    assert "expected one of: defaults, providers, contacts, senders, channels" in problem.message


def test_unknown_nested_key_is_reported_at_its_line(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL + "    sender: ACME\n")
    assert (problem.line, problem.path) == (19, "channels.oncall-sms.sender")
    assert "did you mean 'sender_id'?" in problem.message
    assert "from" in problem.message  # the alias is what people write


def test_unknown_key_in_a_provider_account_is_reported(tmp_path: Path) -> None:
    text = CHANNEL.replace("    pod: in\n", "    pod: in\n    region: eu\n")
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (13, "providers.kal.region")
    assert "expected one of: api_key, base_url" in problem.message


def test_wrong_types_are_reported_with_what_was_expected(tmp_path: Path) -> None:
    text = "defaults:\n  confirm_over: lots\n" + CHANNEL.replace(
        'to: ["+254712345678"]', 'to: "+254712345678"'
    )
    found = problems(tmp_path, text)
    assert [(p.line, p.path, p.message) for p in found] == [
        (2, "defaults.confirm_over", "expected a whole number"),
        (19, "channels.oncall-sms.to", "expected a list, e.g. [a, b] or one '- item' per line"),
    ]


def test_missing_required_key_points_at_the_entry(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL.replace("    allowed_senders: [U012ABCDEF]\n", ""))
    assert (problem.line, problem.path) == (14, "channels.oncall-sms.allowed_senders")
    assert problem.message.startswith("missing required key 'allowed_senders': who may send")


def test_unknown_provider_type_is_reported_at_type(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL.replace("type: autokonnect", "type: twilio"))
    assert (problem.line, problem.path) == (6, "providers.ak.type")
    assert problem.message == (
        "unknown provider type 'twilio' — expected one of: talkntalk, autokonnect, kaleyra"
    )


def test_kaleyra_without_pod_or_base_url_is_reported(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL.replace("    pod: in\n", ""))
    assert (problem.line, problem.path) == (8, "providers.kal")
    assert "set pod (in, sg or eu) or base_url" in problem.message


def test_unknown_service_lists_the_services(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL.replace("service: sms", "service: mms"))
    assert (problem.line, problem.path) == (16, "channels.oncall-sms.service")
    assert problem.message == "expected one of: 'sms', 'whatsapp', 'whatsapp_group', 'waba'"


def test_duplicate_keys_are_rejected_with_both_lines(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL + "    service: whatsapp\n")
    assert (problem.line, problem.path) == (19, "channels.oncall-sms.service")
    assert problem.message == "duplicate key 'service' (first at line 16): keep only one"


def test_duplicate_channel_names_are_rejected(tmp_path: Path) -> None:
    text = CHANNEL + "  oncall-sms:\n    provider: tnt\n"
    found = problems(tmp_path, text)
    assert [(p.line, p.path) for p in found] == [(19, "channels.oncall-sms")]


def test_merge_keys_share_settings_without_counting_as_duplicates(tmp_path: Path) -> None:
    text = CHANNEL.replace("  oncall-sms:\n", "  oncall-sms: &sms\n") + (
        "  ops-sms:\n    <<: *sms\n    sender_id: OPS\n"
    )
    settings = load(tmp_path, text)
    assert settings.channel("ops-sms").route.sender_id == "OPS"
    assert settings.channel("ops-sms").recipients == ("+254712345678",)


def test_names_typed_in_slack_must_be_simple(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL.replace("  oncall-sms:", "  Oncall SMS:"))
    assert (problem.line, problem.path) == (14, "channels.Oncall SMS")
    assert "not a usable channel name" in problem.message
    assert "lowercase letters, digits, '-' and '_'" in problem.message


def test_keys_are_the_text_written_not_yaml_booleans(tmp_path: Path) -> None:
    text = (
        CHANNEL.replace('to: ["+254712345678"]', "to: [on]")
        + 'contacts:\n  on: ["+254712345678"]\n'
    )
    assert load(tmp_path, text).channel("oncall-sms").recipients == ("+254712345678",)


def test_unquoted_international_number_keeps_its_plus(tmp_path: Path) -> None:
    text = CHANNEL.replace('to: ["+254712345678"]', "to: [+254712345678, 0798765432]")
    assert load(tmp_path, text).channel("oncall-sms").recipients == (
        "+254712345678",
        "+254798765432",
    )


def test_numeric_ids_written_without_quotes_are_text(tmp_path: Path) -> None:
    text = CHANNEL + "    sender_id: 12345\n"
    assert load(tmp_path, text).channel("oncall-sms").route.sender_id == "12345"


def test_yaml_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL + "  broken: [a, b\n")
    assert problem.line == 20
    assert problem.message.startswith("not valid YAML")


def test_empty_file_says_where_to_start(tmp_path: Path) -> None:
    problem = one(tmp_path, "# nothing yet\n")
    assert "config/bridge.example.yaml" in problem.message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path / "nope.yaml", {})
    assert "no such file" in str(caught.value)


def test_every_problem_is_collected_in_one_error_sorted_by_line(tmp_path: Path) -> None:
    text = (
        CHANNEL.replace("type: autokonnect", "type: twilio").replace(
            "provider: tnt", "provider: tnx"
        )
        + "    colour: blue\n"
        + "broadcasts:\n  all:\n    title: All\n    channels: [nowhere]\n"
        + "    allowed_senders: [U012ABCDEF]\n    announce_in: C0INCIDENTS\n"
    )
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    error = caught.value
    assert [(p.line, p.path) for p in error.problems] == [
        (6, "providers.ak.type"),
        (15, "channels.oncall-sms.provider"),
        (19, "channels.oncall-sms.colour"),
        (23, "broadcasts.all.channels[0]"),
    ]
    lines = str(error).splitlines()
    assert len(lines) == 4
    assert lines[1] == (
        f"{tmp_path / 'bridge.yaml'}:15: channels.oncall-sms.provider: "
        "unknown provider 'tnx' — defined providers: tnt, ak, kal"
    )


def test_default_path_follows_bridge_config() -> None:
    assert config.default_path({}) == Path("config/bridge.yaml")
    assert config.default_path({"BRIDGE_CONFIG": "/etc/bridge.yaml"}) == Path("/etc/bridge.yaml")


def test_retry_max_age_is_a_duration_with_a_unit(tmp_path: Path) -> None:
    assert load(tmp_path, CHANNEL).defaults.retry_max_age == timedelta(hours=24)
    text = "defaults:\n  retry_max_age: 90m\n" + CHANNEL
    assert load(tmp_path, text).defaults.retry_max_age == timedelta(minutes=90)
    problem = one(tmp_path, "defaults:\n  retry_max_age: 24\n" + CHANNEL)
    assert (problem.line, problem.path) == (2, "defaults.retry_max_age")
    assert problem.message == "expected a duration with a unit, e.g. 24h, 90m or 2d"


def test_takeover_after_is_a_duration_30s_by_default(tmp_path: Path) -> None:
    assert load(tmp_path, CHANNEL).defaults.takeover_after == timedelta(seconds=30)
    text = "defaults:\n  takeover_after: 2s\n" + CHANNEL
    assert load(tmp_path, text).defaults.takeover_after == timedelta(seconds=2)
    problem = one(tmp_path, "defaults:\n  takeover_after: 30\n" + CHANNEL)
    assert (problem.line, problem.path) == (2, "defaults.takeover_after")
