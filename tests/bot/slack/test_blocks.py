"""Ephemeral replies: help, list, status, history, queued and the confirmation prompt (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge_sandbox.slack.blockkit import MAX_MESSAGE_BLOCKS, block_problems

from bot.policy import Sender, usable_channels
from bot.slack import ids
from bot.slack import messages as blocks
from bot.slack.mrkdwn import escape
from bot.values import RecipientRecord as Row
from bot.values import RecipientStatus, RequestState, RequestStatus, Surface
from bot.values import RequestRecord as Record
from config import Settings
from providers.base import Message, MessageType
from tests.bot.blocks_fixtures import settings
from tests.bot.dispatch_kit import SMS

__all__ = ["settings"]

ALICE = Sender("U0ALICE001", frozenset(), "C0INCIDENT")


def text_of(blocks_: list[dict[str, Any]]) -> str:
    return repr(blocks_)


def valid(blocks_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert block_problems(blocks_, MAX_MESSAGE_BLOCKS, "/blocks") == []
    return blocks_


def test_help_shows_every_form_with_the_configured_command(settings: Settings) -> None:
    shown = text_of(valid(blocks.help_blocks("/page", usable_channels(settings, ALICE))))
    for form in (
        "`/page`",
        "`/page &lt;channel&gt; &lt;message&gt;`",  # escaped: shown as typed, not parsed
        "`/page list`",
        "`/page status &lt;request-id&gt;`",
        "`/page history`",
        "`/page help`",
        "+254712345678,+254700000001",
    ):
        assert form in shown
    assert "`oncall-sms`" in shown
    assert "`india-wa`" in shown


def test_help_lists_only_channels_usable_here(settings: Settings) -> None:
    elsewhere = Sender("U0ALICE001", frozenset(), "C0RANDOM01")
    shown = text_of(blocks.help_blocks("/send", usable_channels(settings, elsewhere)))
    assert "`oncall-sms`," not in shown  # only from C0INCIDENT
    assert "sms-adhoc" in shown


def test_help_for_someone_with_no_channel_says_whom_to_ask(settings: Settings) -> None:
    carol = Sender("U0CAROL003")
    shown = text_of(blocks.help_blocks("/send", usable_channels(settings, carol)))
    assert "Ask a bridge admin" in shown


def test_list_shows_reach_masked_adhoc_and_types(settings: Settings) -> None:
    shown = text_of(valid(blocks.list_blocks("/send", usable_channels(settings, ALICE))))
    assert "*oncall-sms* — TalkNTalk sms" in shown
    assert "reaches 2: `+2547•••••678`, `+2547•••••432`" in shown
    assert "+254712345678" not in shown  # never a whole number
    assert "*everyone-sms*" in shown
    assert "and 9 more" in shown  # 12 recipients, 3 shown
    assert "*customers* — AutoKonnect waba" in shown
    assert "types: text, image, document, template" in shown
    assert "you may add numbers" in shown
    assert "its own recipients only" in shown
    assert "no recipients of its own" in shown  # sms-adhoc


def test_list_line_for_a_group_channel_shows_the_group_id(settings: Settings) -> None:
    line = blocks.channel_line(settings.channels["noc-group"])
    assert "120363410923125768@g.us" in line
    assert "TalkNTalk whatsapp_group" in line


AT = datetime(2026, 1, 1, 10, 2, tzinfo=UTC)


def _record(request_id: str = "R7K2M9QXA", channel: str = "oncall-sms", total: int = 3) -> Record:
    return Record(
        request_id=request_id,
        created_at=AT,
        updated_at=AT,
        finished_at=AT,
        surface=Surface.SLASH,
        user_id="U0ALICE001",
        slack_channel="C0INCIDENT",
        thread_ts=None,
        channel=channel,
        account="tnt",
        route=SMS,
        message=Message(type=MessageType.TEXT, text="Disk full"),
        state=RequestState.DONE,
        idempotency_key=None,
        parent_request_id=None,
        broadcast_id=None,
        report_channel=None,
        report_ts=None,
        title=None,
        response_url=None,
        total=total,
    )


def _recipient(address: str, status: RecipientStatus, reason: str | None = None) -> Row:
    return Row("R7K2M9QXA", 0, address, "r0", status, None, reason, None, None, 1, AT)


def test_status_shows_counts_masked_numbers_and_reasons() -> None:
    status = RequestStatus(
        record=_record(),
        counts={"sent": 1, "failed": 1, "unknown": 1},
        recipients=[
            _recipient("+254712345678", RecipientStatus.SENT),
            _recipient("+254798765432", RecipientStatus.FAILED, "insufficient balance"),
            _recipient("+254700000001", RecipientStatus.UNKNOWN, "provider timed out"),
        ],
    )
    shown = text_of(valid(blocks.status_blocks(status)))
    assert "*R7K2M9QXA*" in shown
    assert "sent 1 · failed 1 · unknown 1 (of 3)" in shown
    assert "`+2547•••••678` — sent" in shown
    assert "`+2547•••••432` — failed: insufficient balance" in shown
    assert "unknown: provider timed out" in shown
    assert "+254712345678" not in shown
    assert "R7K2M9QXA: done" in blocks.status_text(status)


def test_status_of_a_large_request_stays_within_slack_limits() -> None:
    recipients = [_recipient(f"+2547000{i:05d}", RecipientStatus.SENT) for i in range(400)]
    status = RequestStatus(record=_record(total=400), counts={"sent": 400}, recipients=recipients)
    shown = valid(blocks.status_blocks(status))
    assert "and 375 more" in text_of(shown)


def test_history_lists_each_request_with_its_counts() -> None:
    statuses = [
        RequestStatus(record=_record(), counts={"sent": 3}, recipients=[]),
        RequestStatus(_record(request_id="RABCDEFGH", channel="customers"), {}, recipients=[]),
    ]
    shown = text_of(valid(blocks.history_blocks(statuses, "/send")))
    assert "`R7K2M9QXA` · text to `oncall-sms`" in shown
    assert "sent 3 (of 3)" in shown
    assert "`RABCDEFGH`" in shown
    assert "<!date^1767261720^" in shown


def test_history_when_empty() -> None:
    assert "not sent anything" in text_of(blocks.history_blocks([], "/send"))


def test_queued_text_names_request_count_and_channel() -> None:
    assert blocks.queued_text("R7K2M9QXA", 2, "oncall-sms") == (
        "Queued R7K2M9QXA to 2 recipients of `oncall-sms`. Results will be posted in this channel."
    )
    assert "1 recipient of" in blocks.queued_text("R1", 1, "x")


def test_rejection_text_says_nothing_was_sent() -> None:
    assert blocks.rejected_text("No such channel.") == "No such channel. Nothing was sent."


def test_confirm_prompt_has_send_and_cancel_with_the_group_id() -> None:
    prompt = valid(blocks.confirm_prompt_blocks("R7K2M9QXA", "250 people", "oncall-sms"))
    buttons = prompt[1]["elements"]
    assert [b["action_id"] for b in buttons] == [ids.CONFIRM_SEND, ids.CANCEL_SEND]
    assert buttons[0]["style"] == "primary"
    assert {b["value"] for b in buttons} == {"R7K2M9QXA"}
    assert blocks.confirm_prompt_text("250 people", "oncall-sms") == (
        "This sends to 250 people through oncall-sms. Send?"
    )


def test_long_text_is_cut_to_slack_limits() -> None:
    assert len(blocks.section(escape("x" * 5000))["text"]["text"]) == 3000
    assert len(blocks.option("y" * 100, "v")["text"]["text"]) == 75
