"""``reach:``, ``quiet:`` and ``canaries:`` at load: each wrong rule is one located line saying what
to write instead, and ``check`` words a person's rules, quiet hours and the canaries."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

import config
from config import ConfigError, describe

BASE = """\
providers:
  tnt: {type: talkntalk, api_key: "${TNT_KEY}"}
  kal: {type: kaleyra, api_key: "${KAL_KEY}", sid: HXAP16XXXXXX97IN, pod: in}
channels:
  oncall-sms: {provider: tnt, service: sms, sender_id: ACME, allow_adhoc: true,
               allowed_senders: [U012ABCDEF]}
  oncall-wa: {provider: kal, service: whatsapp, from: "+918123456789", allow_adhoc: true,
              allowed_senders: [U012ABCDEF]}
  noc-group: {provider: tnt, service: whatsapp_group, session_id: s-1,
              to: ["120363410923125768@g.us"], allowed_senders: [U012ABCDEF]}
"""
ENV = {"TNT_KEY": "k1", "KAL_KEY": "k2"}


def load(tmp_path: Path, extra: str) -> config.Settings:
    path = tmp_path / "bridge.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    return config.load(path, ENV)


def problems(tmp_path: Path, extra: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, extra)
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


GOOD = """\
people:
  alice:
    phone: "+254712345678"
    whatsapp: "+254712345678"
    slack: U0ALICE001
    reach: [{via: oncall-wa}, {via: oncall-sms, after: 2m}]
    quiet: {from: "22:00", until: "07:00", timezone: Africa/Nairobi}
canaries:
  oncall-sms: {to: "0700 000 099", every: 1d, at: "09:00", timezone: Africa/Nairobi,
               announce_in: C0OPS0001}
  oncall-wa: {to: "+254700000098", every: 6h, within: 2m, announce_in: C0OPS0001}
"""


def test_rules_quiet_hours_and_canaries_resolve(tmp_path: Path) -> None:
    settings = load(tmp_path, GOOD)
    alice = settings.people["alice"]
    assert [(r.via, r.after) for r in alice.reach] == [
        ("oncall-wa", timedelta(0)),
        ("oncall-sms", timedelta(minutes=2)),
    ]
    assert alice.quiet is not None
    assert (alice.quiet.since, alice.quiet.until) == (time(22), time(7))
    assert alice.quiet.timezone.key == "Africa/Nairobi"
    sms = settings.canaries["oncall-sms"]
    assert sms.to == "+254700000099"  # normalised like any number
    assert (sms.every, sms.at, sms.within) == (timedelta(days=1), time(9), timedelta(minutes=5))
    assert settings.canaries["oncall-wa"].timezone.key == "UTC"


def test_check_words_rules_quiet_hours_and_canaries(tmp_path: Path) -> None:
    out = describe(load(tmp_path, GOOD))
    assert "reach: oncall-wa at once, then oncall-sms after 2m" in out
    assert "quiet 22:00–07:00 Africa/Nairobi (holds low-urgency pages)" in out
    assert "oncall-sms  to +2547•••••099, every 24h at 09:00 Africa/Nairobi" in out
    assert "oncall-wa  to +2547•••••098, every 6h" in out
    assert "(its account kal has no webhook_secret)" in out
    assert "+254700000099" not in out  # a whole number is never printed


def test_each_wrong_rule_says_what_to_write(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
people:
  alice:
    phone: "+254712345678"
    reach: [{via: oncall-wa}, {via: pager}, {via: noc-group}]
  bob:
    slack: U0BOB00002
    reach: [{via: oncall-sms, after: soon}]
  carol:
    phone: "+254700000003"
    quiet: {from: "25:00", until: "07:00", timezone: Mars/Olympus}
""",
    )
    text = "\n".join(found)
    assert "people.alice.reach[0].via: alice has no whatsapp, but oncall-wa sends WhatsApp" in text
    assert "people.alice.reach[1].via: unknown channel 'pager' — defined channels:" in text
    assert "people.alice.reach[2].via: noc-group sends to a WhatsApp group, not one person" in text
    assert "people.bob.reach[0].after: expected a duration with a unit" in text
    assert "people.carol.quiet.from: expected a time of day as HH:MM" in text
    assert "people.carol.quiet.timezone: unknown timezone 'Mars/Olympus'" in text


def test_an_sms_rule_for_someone_without_a_phone_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "people:\n  bob: {slack: U0BOB00002, reach: [{via: oncall-sms}]}\n",
    )
    assert found == [
        "people.bob.reach[0].via: bob has no phone, but oncall-sms sends SMS: give bob a phone, "
        "or remove this rule"
    ]


def test_each_wrong_canary_says_what_to_write(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
canaries:
  pager: {to: "+254700000099", every: 1d, announce_in: C0OPS0001}
  oncall-sms: {to: "12", every: 1d, announce_in: C0OPS0001}
  oncall-wa: {to: "+254700000098", every: 12h, at: "09:00", within: 1d, announce_in: ops}
  noc-group: {to: "+254700000097", every: 1d, announce_in: C0OPS0001}
""",
    )
    text = "\n".join(found)
    assert "canaries.pager: unknown channel 'pager': a canary is named after the channel" in text
    assert "canaries.oncall-sms.to:" in text
    assert "canaries.oncall-wa.at: at needs every in whole days (1d, 1w)" in text
    assert "canaries.oncall-wa.within: within must be shorter than every" in text
    assert "canaries.oncall-wa.announce_in: 'ops': use the channel ID (C…)" in text
    assert "canaries.noc-group.to: noc-group sends to WhatsApp groups: give its group id" in text
