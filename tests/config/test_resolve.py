"""Resolution: contact lists, numbers, routes, message types, senders and broadcasts."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import MessageType, Route, Service
from tests.config.helpers import PROVIDERS, load, one, problems

SRE = "senders:\n  sre: [U012ABCDEF, usergroup:S0SRE1234]\n"  # lines 13-14


def channel(service: str, to: str, extra: str = "", provider: str = "tnt") -> str:
    """A config whose channel 'ch' is on line 16 (provider 17, service 18, to 19, extra 21)."""
    return (
        PROVIDERS
        + SRE
        + "channels:\n"
        + "  ch:\n"
        + f"    provider: {provider}\n"
        + f"    service: {service}\n"
        + f"    to: {to}\n"
        + "    allowed_senders: [sre]\n"
        + extra
    )


def test_local_numbers_are_normalised_to_e164_in_the_default_country(tmp_path: Path) -> None:
    text = channel("sms", '["0798 765 432", "+254 712 345 678", "254700000001"]')
    assert load(tmp_path, text).channel("ch").recipients == (
        "+254798765432",
        "+254712345678",
        "+254700000001",
    )


def test_default_country_applies_to_local_numbers(tmp_path: Path) -> None:
    text = "defaults:\n  country: in\n" + channel("sms", '["08123456789"]')
    settings = load(tmp_path, text)
    assert settings.defaults.country == "IN"
    assert settings.channel("ch").recipients == ("+918123456789",)


def test_invalid_number_is_reported_at_its_entry(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678", "0798 765"]')
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (19, "channels.ch.to[1]")
    assert problem.message.startswith("'0798 765' is not a valid KE number")
    assert "write it with a country code, e.g. +2547" in problem.message


def test_invalid_number_in_a_contact_list_is_reported_once_where_written(tmp_path: Path) -> None:
    text = channel("sms", "[oncall]") + 'contacts:\n  oncall:\n    - "+254712345678"\n    - "12"\n'
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (24, "contacts.oncall[1]")


def test_nested_contact_lists_expand_in_order_without_duplicates(tmp_path: Path) -> None:
    text = channel("sms", '[field-techs, "+254712345678"]') + (
        "contacts:\n"
        '  oncall: ["+254712345678", "0798 765 432"]\n'
        '  field-techs: ["+254700000001", oncall, "0712 345 678"]\n'
    )
    settings = load(tmp_path, text)
    assert settings.contacts["field-techs"] == ("+254700000001", "+254712345678", "+254798765432")
    assert settings.channel("ch").recipients == (
        "+254700000001",
        "+254712345678",
        "+254798765432",
    )


def test_contact_list_cycle_is_reported_with_its_path(tmp_path: Path) -> None:
    text = channel("sms", "[a]") + "contacts:\n  a: [b]\n  b: [c]\n  c: [a]\n"
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (24, "contacts.c[0]")
    assert "a -> b -> c -> a" in problem.message


def test_unknown_contact_list_is_reported_with_the_defined_ones(tmp_path: Path) -> None:
    text = channel("sms", "[on-call]") + 'contacts:\n  oncall: ["+254712345678"]\n'
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (19, "channels.ch.to[0]")
    assert "unknown contact list 'on-call' — defined lists: oncall" in problem.message


def test_group_id_on_an_sms_channel_is_rejected(tmp_path: Path) -> None:
    problem = one(tmp_path, channel("sms", '["120363410923125768@g.us"]'))
    assert (problem.line, problem.path) == (19, "channels.ch.to[0]")
    assert "only a whatsapp_group channel sends to groups" in problem.message


def test_group_from_a_contact_list_names_the_list(tmp_path: Path) -> None:
    text = channel("sms", "[noc]") + 'contacts:\n  noc: ["120363410923125768@g.us"]\n'
    problem = one(tmp_path, text)
    assert problem.line == 19
    assert problem.message.startswith("contact list 'noc' includes 120363410923125768@g.us")


def test_tag_on_a_non_waba_channel_is_rejected(tmp_path: Path) -> None:
    problem = one(tmp_path, channel("sms", '["tag:42"]'))
    assert (problem.line, problem.path) == (19, "channels.ch.to[0]")
    assert "only a waba channel sends to tags" in problem.message


def test_number_on_a_whatsapp_group_channel_is_rejected(tmp_path: Path) -> None:
    extra = "    session_id: 3fa85f64\n"
    problem = one(tmp_path, channel("whatsapp_group", '["+254712345678"]', extra))
    assert (problem.line, problem.path) == (19, "channels.ch.to[0]")
    assert "sends to group ids" in problem.message


def test_groups_and_tags_pass_through_unchanged(tmp_path: Path) -> None:
    text = channel("waba", '["tag:42", "0712345678"]', '    waba_id: "123"\n', provider="ak")
    text += '  grp:\n    provider: tnt\n    service: whatsapp_group\n    session_id: "s1"\n'
    text += '    to: ["120363410923125768@g.us"]\n    allowed_senders: [sre]\n'
    settings = load(tmp_path, text)
    assert settings.channel("ch").recipients == ("tag:42", "+254712345678")
    assert settings.channel("ch").route == Route(service=Service.WABA, waba_id="123")
    assert settings.channel("grp").recipients == ("120363410923125768@g.us",)


def test_malformed_tag_is_rejected(tmp_path: Path) -> None:
    problem = one(tmp_path, channel("waba", '["tag:vip"]', '    waba_id: "1"\n', provider="ak"))
    assert "tags are numeric ids, e.g. tag:42" in problem.message


def test_unknown_provider_reference_lists_the_accounts(tmp_path: Path) -> None:
    problem = one(tmp_path, channel("sms", '["+254712345678"]', provider="tnx"))
    assert (problem.line, problem.path) == (17, "channels.ch.provider")
    assert problem.message == "unknown provider 'tnx' — defined providers: tnt, ak, kal"


def test_service_the_provider_does_not_offer_is_rejected(tmp_path: Path) -> None:
    problem = one(tmp_path, channel("waba", '["tag:42"]', '    waba_id: "1"\n', provider="tnt"))
    assert (problem.line, problem.path) == (18, "channels.ch.service")
    assert problem.message == (
        "tnt is a TalkNTalk account, which has no service 'waba' — "
        "it offers: sms, whatsapp, whatsapp_group"
    )


def test_route_problems_from_the_provider_are_reported_at_the_channel(tmp_path: Path) -> None:
    problem = one(tmp_path, channel("whatsapp", '["+254712345678"]'))
    assert (problem.line, problem.path) == (16, "channels.ch")
    assert "needs session_id" in problem.message


def test_kaleyra_from_number_is_normalised_and_checked(tmp_path: Path) -> None:
    ok = channel("whatsapp", '["+918123456789"]', '    from: "+91 81234 56789"\n', "kal")
    assert load(tmp_path, ok).channel("ch").route.from_number == "+918123456789"
    bad = channel("whatsapp", '["+918123456789"]', '    from: "+91XXXXXXXXXX"\n', "kal")
    problem = one(tmp_path, bad)
    assert (problem.line, problem.path) == (21, "channels.ch.from")


def test_message_types_default_to_what_the_provider_supports(tmp_path: Path) -> None:
    text = channel("whatsapp", '["+254712345678"]', "    session_id: s1\n")
    assert load(tmp_path, text).channel("ch").message_types == frozenset(
        {
            MessageType.TEXT,
            MessageType.IMAGE,
            MessageType.VIDEO,
            MessageType.AUDIO,
            MessageType.DOCUMENT,
        }
    )


def test_message_types_accept_talkntalk_aliases(tmp_path: Path) -> None:
    extra = "    session_id: s1\n    message_types: [text, voice, file]\n"
    text = channel("whatsapp", '["+254712345678"]', extra)
    assert load(tmp_path, text).channel("ch").message_types == frozenset(
        {MessageType.TEXT, MessageType.AUDIO, MessageType.DOCUMENT}
    )


def test_message_types_the_provider_does_not_take_are_rejected(tmp_path: Path) -> None:
    extra = '    from: "+918123456789"\n    message_types: [text, image, sticker]\n'
    found = problems(tmp_path, channel("whatsapp", '["+918123456789"]', extra, "kal"))
    assert [(p.line, p.path) for p in found] == [
        (22, "channels.ch.message_types[1]"),
        (22, "channels.ch.message_types[2]"),
    ]
    assert found[0].message == "Kaleyra whatsapp does not take image messages — it takes: text"
    assert found[1].message.startswith("unknown message type 'sticker'")


def test_senders_expand_groups_into_users_and_usergroups(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]').replace(
        "allowed_senders: [sre]", "allowed_senders: [sre, W0ADMIN01, usergroup:S0OPS0001]"
    )
    resolved = load(tmp_path, text).channel("ch")
    assert resolved.allowed_users == frozenset({"U012ABCDEF", "W0ADMIN01"})
    assert resolved.allowed_usergroups == frozenset({"S0SRE1234", "S0OPS0001"})
    assert resolved.allows_sender("U012ABCDEF")
    assert resolved.allows_sender("U0OTHER01", usergroups=["S0OPS0001"])
    assert not resolved.allows_sender("U0OTHER01")


def test_unknown_sender_group_and_bad_ids_are_reported(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]').replace(
        "allowed_senders: [sre]", "allowed_senders: [sre, ops]"
    )
    text = text.replace("usergroup:S0SRE1234", "sre-team")
    found = problems(tmp_path, text)
    assert [(p.line, p.path) for p in found] == [
        (14, "senders.sre[1]"),
        (20, "channels.ch.allowed_senders[1]"),
    ]
    assert "'sre-team' is not a Slack user ID (U…" in found[0].message
    assert "unknown sender group 'ops' — defined sender groups: sre" in found[1].message


def test_slack_channels_must_be_ids(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]', "    slack_channels: [C0INCIDENTS, '#ops']\n")
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (21, "channels.ch.slack_channels[1]")
    assert "use the channel ID (C…" in problem.message


def test_slack_channels_restrict_where_a_channel_is_used(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]', "    slack_channels: [C0INCIDENTS]\n")
    resolved = load(tmp_path, text).channel("ch")
    assert resolved.usable_in("C0INCIDENTS")
    assert not resolved.usable_in("C0RANDOM")


def test_channel_without_recipients_or_adhoc_could_never_send(tmp_path: Path) -> None:
    text = channel("sms", "[]")
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (16, "channels.ch")
    assert "allow_adhoc: true" in problem.message


def test_channel_over_max_recipients_is_rejected(tmp_path: Path) -> None:
    text = "defaults:\n  max_recipients: 1\n" + channel("sms", '["+254712345678", "+254700000001"]')
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (21, "channels.ch.to")
    assert "more than defaults.max_recipients (1)" in problem.message


def test_broadcast_with_an_unknown_channel_is_rejected(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]') + (
        "broadcasts:\n  oncall:\n    title: On-call\n    channels: [ch, pager]\n"
        "    allowed_senders: [sre]\n    announce_in: C0INCIDENTS\n"
    )
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (24, "broadcasts.oncall.channels[1]")
    assert problem.message == "unknown channel 'pager' — defined channels: ch"


def test_broadcast_template_allows_only_known_placeholders(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]') + (
        "broadcasts:\n  oncall:\n    title: On-call\n    channels: [ch]\n"
        '    template: "[{severity}] {text} {team}"\n'
        "    allowed_senders: [sre]\n    announce_in: C0INCIDENTS\n"
    )
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (25, "broadcasts.oncall.template")
    assert problem.message == "unknown placeholder {team} — use only {severity}, {text}, {sender}"


def test_broadcast_resolves_senders_and_renders_its_template(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]') + (
        "broadcasts:\n  oncall:\n    title: On-call\n    channels: [ch]\n"
        '    template: "[{severity}] {text} (from {sender})"\n'
        "    allowed_senders: [sre]\n    announce_in: C0INCIDENTS\n"
    )
    preset = load(tmp_path, text).broadcast("oncall")
    assert preset.severities == ("SEV1", "SEV2", "SEV3")
    assert preset.allowed_usergroups == frozenset({"S0SRE1234"})
    assert preset.render(severity="SEV1", text="db down", sender="ann") == (
        "[SEV1] db down (from ann)"
    )


def test_broadcast_announce_in_must_be_a_channel_id(tmp_path: Path) -> None:
    text = channel("sms", '["+254712345678"]') + (
        "broadcasts:\n  oncall:\n    title: On-call\n    channels: [ch]\n"
        "    allowed_senders: [sre]\n    announce_in: incidents\n"
    )
    problem = one(tmp_path, text)
    assert (problem.line, problem.path) == (26, "broadcasts.oncall.announce_in")


def test_unknown_lookups_name_what_exists(tmp_path: Path) -> None:
    settings = load(tmp_path, channel("sms", '["+254712345678"]'))
    with pytest.raises(KeyError, match="unknown channel 'nope' — defined channels: ch"):
        settings.channel("nope")
    assert settings.provider("kal").type == "kaleyra"
