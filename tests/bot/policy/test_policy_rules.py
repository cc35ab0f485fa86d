"""Every permission rule in ``bot.policy`` answered as a plain value, and Slack's words for a no.

Pure: a config loaded from a temp file, no network. The end-to-end tests (``test_slack_authz``,
``test_paging_*``) show the same rules through a running bridge; these pin each rule's answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from bot.policy import (
    AckRight,
    Reason,
    Refusal,
    Rejection,
    Sender,
    ack_right,
    authorize,
    link_ack_right,
    may_broadcast,
    may_decide_held,
    may_page,
    may_see_page,
    may_see_request,
    may_send,
    usable_presets,
)
from bot.slack.refusals import refusal_text
from config import Settings

CONFIG = """\
defaults:
  country: KE
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}
senders:
  sre: [U0SRE0001, usergroup:S0SRE1234]
people:
  alice: {phone: "+254712345678", slack: U0ALICE001}
  bob: {phone: "+254700000002", slack: U0BOB00002}
channels:
  oncall-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allow_adhoc: true
    allowed_senders: [sre]
    slack_channels: [C0INCIDENTS, C0NOC]
escalations:
  db:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [oncall-sms], wait: 5m}
broadcasts:
  oncall:
    title: On-call broadcast
    channels: [oncall-sms]
    template: "[{severity}] {text}"
    severities: [SEV1]
    allowed_senders: [sre]
    announce_in: C0INCIDENTS
  db-pager:
    title: Page the database on-call
    escalation: db
    template: "[{severity}] {text}"
    allowed_senders: [sre]
    announce_in: C0INCIDENTS
"""

SRE = Sender("U0SRE0001", slack_channel="C0INCIDENTS")
IN_GROUP = Sender("U0OTHER001", frozenset({"S0SRE1234"}), "C0INCIDENTS")
STRANGER = Sender("U0STRANGE1", slack_channel="C0INCIDENTS", note="(Slack did not answer.)")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "bridge.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return config.load(path, {"TNT_KEY": "k1"})


# --- send ----------------------------------------------------------------------------------------


def test_may_send_answers_none_or_the_rule_that_said_no(settings: Settings) -> None:
    channel = settings.channels["oncall-sms"]
    assert may_send(channel, SRE) is None
    assert may_send(channel, IN_GROUP) is None
    refused = may_send(channel, STRANGER)
    assert refused is not None
    assert (refused.reason, refused.field) == (Reason.NOT_CHANNEL_SENDER, "channel")
    assert refused.words.endswith("to its allowed_senders. (Slack did not answer.)")
    elsewhere = may_send(channel, Sender("U0SRE0001", slack_channel="C0RANDOM"))
    assert elsewhere is not None
    assert (elsewhere.reason, elsewhere.slack_channels) == (
        Reason.ONLY_FROM,
        ("C0INCIDENTS", "C0NOC"),
    )


def test_slack_words_only_from_with_live_channel_mentions(settings: Settings) -> None:
    with pytest.raises(Rejection) as caught:
        authorize(settings, "oncall-sms", Sender("U0SRE0001", slack_channel="C0RANDOM"))
    words = "`oncall-sms` can only be used from <#C0INCIDENTS>, <#C0NOC>. Run the command there."
    assert caught.value.plain == words  # a modal's error and the terminal: the same words
    assert refusal_text(caught.value.refusal) == words  # Slack: the mentions are live
    assert "&lt;" not in refusal_text(caught.value.refusal)


def test_slack_escapes_what_someone_typed_in_a_refusal(settings: Settings) -> None:
    with pytest.raises(Rejection) as caught:
        authorize(settings, "<!channel>", SRE)
    assert caught.value.refusal.reason is Reason.NO_SUCH_CHANNEL
    assert caught.value.plain.startswith("There is no channel called `<!channel>`.")
    shown = refusal_text(caught.value.refusal)
    assert shown.startswith("There is no channel called `&lt;!channel&gt;`.")
    assert "<!channel>" not in shown


# --- broadcast -----------------------------------------------------------------------------------


def test_may_broadcast_and_the_presets_a_sender_is_offered(settings: Settings) -> None:
    oncall = settings.broadcasts["oncall"]
    assert may_broadcast(oncall, IN_GROUP) is None
    refused = may_broadcast(oncall, STRANGER)
    assert refused is not None
    assert refused.reason is Reason.NOT_BROADCAST_SENDER
    assert refused.words == (
        "You are not allowed to use the On-call broadcast broadcast. Ask a bridge admin to add "
        "you to its allowed_senders. (Slack did not answer.)"
    )
    assert [p.name for p in usable_presets(settings, SRE)] == ["oncall", "db-pager"]
    assert usable_presets(settings, STRANGER) == []


# --- paging --------------------------------------------------------------------------------------


def test_may_page_is_the_escalations_senders_named_with_the_preset_paged_through(
    settings: Settings,
) -> None:
    db = settings.escalations["db"]
    assert may_page(db, SRE) is None
    assert may_page(db, IN_GROUP) is None
    refused = may_page(db, Sender("U0BOB00002"), preset="Page the database on-call")
    assert refused is not None
    assert (refused.reason, refused.field) == (Reason.NOT_PAGE_SENDER, "text")
    assert refused.words == (
        "You may not page through `db`, which the Page the database on-call broadcast pages "
        "through. Ask a bridge admin to add you (or one of your user groups) to "
        "escalations.db.allowed_senders."
    )


def _right(settings: Settings, user: str, groups: frozenset[str] = frozenset()) -> AckRight:
    return ack_right(
        settings,
        escalation="db",
        started_by="U0STARTER1",
        paged={"alice"},
        user_id=user,
        usergroups=groups,
    )


def test_who_may_acknowledge_a_page_and_see_it(settings: Settings) -> None:
    assert _right(settings, "U0ALICE001") is AckRight.PAGED
    assert _right(settings, "U0STARTER1") is AckRight.STARTER
    assert _right(settings, "U0SRE0001") is AckRight.PAGE_SENDER
    assert _right(settings, "U0OTHER001", frozenset({"S0SRE1234"})) is AckRight.PAGE_SENDER
    assert _right(settings, "U0BOB00002") is AckRight.NONE  # a person, but not paged yet
    assert may_see_page(AckRight.STARTER)
    assert not may_see_page(_right(settings, "U0STRANGE1"))


def test_an_ack_link_acknowledges_for_a_person_the_page_paged(settings: Settings) -> None:
    assert link_ack_right("alice", {"alice"}) is AckRight.PAGED
    assert link_ack_right("bob", {"alice"}) is AckRight.NONE
    assert link_ack_right(None, {"alice"}) is AckRight.NONE


# --- a send after it was asked: status, confirm, cancel ---------------------------------------


def test_only_the_requester_confirms_or_cancels_a_held_send() -> None:
    assert may_decide_held("U0SRE0001", "U0SRE0001", "confirm") is None
    refused = may_decide_held("U0SRE0001", "U0OTHER001", "cancel")
    assert refused is not None
    assert (refused.reason, refused.user) == (Reason.NOT_REQUESTER, "U0SRE0001")
    assert refused.plain == "Only <@U0SRE0001> can cancel this send."
    assert refusal_text(refused) == "Only <@U0SRE0001> can cancel this send."


def test_a_preface_comes_before_the_words_on_every_surface() -> None:
    refusal = Refusal(Reason.INVALID, "a <b> c", preface="Nothing was sent. ")
    assert refusal.plain == "Nothing was sent. a <b> c"
    assert refusal_text(refusal) == "Nothing was sent. a &lt;b&gt; c"


def test_who_may_see_a_sends_status(settings: Settings) -> None:
    channel = settings.channels["oncall-sms"]
    assert may_see_request("U0SRE0001", channel, None, None)  # the terminal
    assert may_see_request("U0ALICE001", channel, "U0ALICE001", None)  # the requester
    assert may_see_request("U0ALICE001", channel, "U0OTHER001", IN_GROUP)  # an allowed sender
    assert not may_see_request("U0ALICE001", channel, "U0STRANGE1", STRANGER)
    assert not may_see_request("U0ALICE001", None, "U0SRE0001", SRE)  # channel gone from config
