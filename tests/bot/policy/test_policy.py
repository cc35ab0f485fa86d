"""``plan_send``: every check a send goes through, and a Rejection a person can act on.

Pure: a config loaded from a temp file, no network. README, "Using it in Slack": a send with "an
unknown channel, a sender or a Slack channel not allowed, a bad number, an empty text, a message
type the channel does not take, too many recipients — gets a reply only the sender sees, saying
exactly what is wrong and how to fix it, and nothing is sent."
"""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from bot.policy import Rejection, Sender, plan_send, usable_channels, usergroups_that_matter
from bot.requests import SendRequest
from config import Settings
from providers.base import Message, MessageType, Route, Service

CONFIG = """\
defaults:
  country: KE
  max_recipients: 4
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}
  ak:
    type: autokonnect
    api_key: ${AK_KEY}
contacts:
  oncall: ["+254712345678", "0798 765 432"]
  leads: ["+254700000001", oncall]
senders:
  sre: [U0SRE0001, usergroup:S0SRE1234]
channels:
  oncall-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    to: [oncall]
    allowed_senders: [sre]
    slack_channels: [C0INCIDENTS]
  ops-wa:
    provider: tnt
    service: whatsapp
    session_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
    to: [leads]
    allowed_senders: [sre]
    allow_adhoc: true
  customers:
    provider: ak
    service: waba
    waba_id: "123"
    to: ["tag:42"]
    allowed_senders: [U0SUPPORT1]
    allow_adhoc: true
    message_types: [text, template]
"""

SRE = Sender("U0SRE0001", slack_channel="C0INCIDENTS")
SUPPORT = Sender("U0SUPPORT1", slack_channel="C0SUPPORT")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "bridge.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return config.load(path, {"TNT_KEY": "k1", "AK_KEY": "k2"})


def request(channel: str, *to: str, message: Message | None = None) -> SendRequest:
    return SendRequest(
        channel=channel, to=to, message=message or Message(type=MessageType.TEXT, text="hi")
    )


def refused(settings: Settings, req: SendRequest, sender: Sender | None = SRE) -> Rejection:
    with pytest.raises(Rejection) as caught:
        plan_send(settings, req, sender=sender, request_id="R0000TEST")
    return caught.value


def test_a_channels_own_recipients_become_the_plan(settings: Settings) -> None:
    plan = plan_send(settings, request("oncall-sms"), sender=SRE, request_id="R0000TEST")
    assert plan.account == "tnt"
    assert plan.channel == "oncall-sms"
    assert plan.route == Route(service=Service.SMS, sender_id="ACME")
    assert [r.address for r in plan.recipients] == ["+254712345678", "+254798765432"]
    assert plan.request_id == "R0000TEST"


def test_unknown_channel_names_the_channels_this_sender_can_use(settings: Settings) -> None:
    rejection = refused(settings, request("oncal-sms"))
    assert "no channel called `oncal-sms`" in rejection.plain
    # The SRE in #incidents may use these two; `customers` is not theirs to use.
    assert rejection.plain.endswith("Channels you can use here: oncall-sms, ops-wa.")
    assert rejection.field == "channel"


def test_unknown_channel_for_someone_who_may_use_none_says_none(settings: Settings) -> None:
    rejection = refused(settings, request("x"), Sender("U0NOBODY1"))
    assert "Channels you can use here: none." in rejection.plain


def test_a_sender_not_allowed_is_told_to_ask_an_admin(settings: Settings) -> None:
    rejection = refused(settings, request("customers"))
    assert "not allowed to send to `customers`" in rejection.plain
    assert "allowed_senders" in rejection.plain
    assert rejection.field == "channel"


def test_usergroup_membership_on_the_sender_allows(settings: Settings) -> None:
    member = Sender("U0OTHER01", usergroups=frozenset({"S0SRE1234"}), slack_channel="C0INCIDENTS")
    plan = plan_send(settings, request("oncall-sms"), sender=member, request_id="R0000TEST")
    assert len(plan.recipients) == 2
    stranger = Sender("U0OTHER01", usergroups=frozenset({"S0OTHER99"}), slack_channel="C0INCIDENTS")
    assert "not allowed" in refused(settings, request("oncall-sms"), stranger).plain
    assert usergroups_that_matter(settings) == frozenset({"S0SRE1234"})


def test_a_slack_channel_not_allowed_says_where_to_run_it(settings: Settings) -> None:
    elsewhere = Sender("U0SRE0001", slack_channel="C0RANDOM1")
    rejection = refused(settings, request("oncall-sms"), elsewhere)
    assert rejection.plain == (
        "`oncall-sms` can only be used from <#C0INCIDENTS>. Run the command there."
    )
    # ... and from there, it is not offered either.
    assert [c.name for c in usable_channels(settings, elsewhere)] == ["ops-wa"]


def test_the_terminal_may_use_every_channel(settings: Settings) -> None:
    plan = plan_send(settings, request("customers"), sender=None, request_id="R0000TEST")
    assert [r.address for r in plan.recipients] == ["tag:42"]


def test_adhoc_numbers_on_a_channel_without_allow_adhoc_are_refused(settings: Settings) -> None:
    rejection = refused(settings, request("oncall-sms", "+254700000009"))
    assert "does not take numbers of your own" in rejection.plain
    assert rejection.field == "to"


def test_an_invalid_number_is_named_with_how_to_write_it(settings: Settings) -> None:
    rejection = refused(settings, request("ops-wa", "+254700000009", "0712 34"))
    assert rejection.plain.startswith("`0712 34` is not a valid number")
    assert "+254" in rejection.plain  # an example with the country code
    assert rejection.field == "to"


def test_an_empty_text_is_refused(settings: Settings) -> None:
    rejection = refused(settings, request("ops-wa", message=Message(text="   ")))
    assert rejection.plain == "The message is empty. Write the text to send."
    assert rejection.field == "text"


def test_a_type_the_channel_does_not_take_lists_what_it_takes(settings: Settings) -> None:
    image = Message(type=MessageType.IMAGE, media_url="https://example.com/a.jpg")
    rejection = refused(settings, request("customers", message=image), SUPPORT)
    assert rejection.plain == "`customers` does not take image messages; it takes: template, text."
    assert rejection.field == "type"
    sms = refused(settings, request("oncall-sms", message=image))
    assert "it takes: text." in sms.plain


def test_a_template_without_an_id_is_refused(settings: Settings) -> None:
    template = Message(type=MessageType.TEMPLATE, components=[])
    rejection = refused(settings, request("customers", message=template), SUPPORT)
    assert rejection.field == "template_id"


def test_more_recipients_than_max_recipients_is_refused(settings: Settings) -> None:
    five = [f"+25470000000{n}" for n in range(1, 6)]
    rejection = refused(settings, request("ops-wa", *five))
    assert rejection.plain.startswith("That is 5 recipients; the limit is 4 per request.")
    assert "defaults.max_recipients" in rejection.plain
    assert rejection.field == "to"


def test_contact_list_names_are_accepted_among_adhoc_numbers(settings: Settings) -> None:
    plan = plan_send(
        settings, request("ops-wa", "oncall", "0700 000 009"), sender=SRE, request_id="R1"
    )
    assert [r.address for r in plan.recipients] == [
        "+254712345678",
        "+254798765432",
        "+254700000009",
    ]


def test_adhoc_numbers_are_deduplicated_in_the_order_typed(settings: Settings) -> None:
    typed = ("0712 345 678", "+254712345678", "oncall", "+254 712 345678", " ", "0700000009")
    plan = plan_send(settings, request("ops-wa", *typed), sender=SRE, request_id="R1")
    assert [r.address for r in plan.recipients] == [
        "+254712345678",
        "+254798765432",
        "+254700000009",
    ]


def test_recipient_refs_are_unique_within_and_across_requests(settings: Settings) -> None:
    first = plan_send(settings, request("ops-wa"), sender=SRE, request_id="RAAAA0001")
    second = plan_send(settings, request("ops-wa"), sender=SRE, request_id="RBBBB0002")
    refs = [r.ref for r in first.recipients]
    assert len(refs) == len(set(refs)) == 3
    assert all(ref.startswith("RAAAA0001-") for ref in refs)
    assert set(refs).isdisjoint(r.ref for r in second.recipients)


def test_a_channel_with_no_recipients_of_its_own_asks_for_numbers(tmp_path: Path) -> None:
    text = CONFIG.replace("    to: [leads]\n", "")
    path = tmp_path / "bridge.yaml"
    path.write_text(text, encoding="utf-8")
    settings = config.load(path, {"TNT_KEY": "k1", "AK_KEY": "k2"})
    rejection = refused(settings, request("ops-wa"))
    assert "has no default recipients; give numbers" in rejection.plain


def test_a_usergroup_only_an_escalation_names_is_looked_up(tmp_path: Path) -> None:
    # Its members may page through it (and acknowledge): the directory must learn who they are.
    text = CONFIG + (
        "people:\n  alice: {phone: '+254712345678'}\n"
        "escalations:\n  db-outage:\n    allowed_senders: [usergroup:S0PAGERS1]\n"
        "    steps:\n      - {notify: [alice], via: [oncall-sms]}\n"
    )
    path = tmp_path / "bridge.yaml"
    path.write_text(text, encoding="utf-8")
    settings = config.load(path, {"TNT_KEY": "k1", "AK_KEY": "k2"})
    assert usergroups_that_matter(settings) == frozenset({"S0SRE1234", "S0PAGERS1"})
