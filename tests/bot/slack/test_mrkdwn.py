"""The one escaping and cutting helper, and the builders that use it (pure).

Why: every builder must escape user text and fit Slack's limits whatever it is given; these
feed each one hostile and oversized input and check the result with the sandbox's own checker.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from bridge_sandbox.slack.blockkit import MAX_MESSAGE_BLOCKS, block_problems, view_problems

from bot.slack import summary
from bot.slack.messages import section, status_blocks
from bot.slack.modal_broadcast import broadcast_not_allowed
from bot.slack.mrkdwn import Mrkdwn, escape, fit, join, md
from bot.values import (
    RecipientRecord,
    RecipientStatus,
    RequestRecord,
    RequestState,
    RequestStatus,
    Surface,
)
from providers.base import Message, MessageType

HOSTILE = "<!channel> <@U0BOB00002> <https://evil.example|https://sso.acme.com> &amp; x"
ESCAPED = (
    "&lt;!channel&gt; &lt;@U0BOB00002&gt; &lt;https://evil.example|https://sso.acme.com&gt; "
    "&amp;amp; x"
)
NOW = datetime(2026, 1, 1, 10, 2, tzinfo=UTC)


def test_escape_turns_exactly_the_three_characters_into_entities() -> None:
    assert escape(HOSTILE) == ESCAPED
    assert escape("'quoted' \"text\" *bold*") == "'quoted' \"text\" *bold*"
    assert escape(escape(HOSTILE)) == ESCAPED  # Mrkdwn is never escaped twice


def test_md_escapes_arguments_and_keeps_the_template_and_numbers() -> None:
    text = md("<@{}> sent *{}* to {:d} people", "U0ALICE001", HOSTILE, 3)
    assert text == f"<@U0ALICE001> sent *{ESCAPED}* to 3 people"
    assert isinstance(text, Mrkdwn)
    assert join(", ", ["<a>", md("<@{}>", "U1")]) == "&lt;a&gt;, <@U1>"


@pytest.mark.parametrize("limit", range(1, 40))
def test_fit_never_splits_an_entity_or_a_control_sequence(limit: int) -> None:
    text = md("<@{}> {}", "U0ALICE001", "<&>" * 10)
    cut = fit(text, limit)
    assert len(cut) <= limit
    assert isinstance(cut, Mrkdwn)
    body = cut.removesuffix("…")
    assert re.fullmatch(r"(<@U0ALICE001>)?( ((&lt;|&amp;|&gt;)*))?", body), cut


def test_fit_leaves_short_text_alone_and_cuts_plain_text_anywhere() -> None:
    assert fit("short", 10) == "short"
    assert fit("&" * 10, 5) == "&&&&…"


def test_a_stray_plain_string_is_escaped_by_the_block_helper() -> None:
    block = section(HOSTILE)  # type: ignore[arg-type]  # mypy refuses it; runtime escapes it
    assert block["text"]["text"] == ESCAPED
    assert block["text"]["verbatim"] is True


def record(**overrides: Any) -> RequestRecord:
    fields: dict[str, Any] = {
        "request_id": "R7K2M9QXA",
        "created_at": NOW,
        "updated_at": NOW,
        "finished_at": NOW,
        "surface": Surface.MODAL,
        "user_id": "U0ALICE001",
        "slack_channel": "C0INCIDENT",
        "thread_ts": None,
        "channel": "customers",
        "account": "ak",
        "route": SimpleNamespace(),
        "message": Message(type=MessageType.TEXT, text=HOSTILE),
        "state": RequestState.DONE,
        "idempotency_key": None,
        "parent_request_id": None,
        "broadcast_id": None,
        "report_channel": None,
        "report_ts": None,
        "title": None,
        "response_url": None,
        "total": 1000,
    }
    fields.update(overrides)
    return RequestRecord(**fields)


def recipient(i: int, status: RecipientStatus, reason: str) -> RecipientRecord:
    return RecipientRecord(
        "R7K2M9QXA", i, f"+2547{i:08d}", f"r{i}", status, None, reason, None, 400, 1, NOW
    )


def fits(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert block_problems(blocks, MAX_MESSAGE_BLOCKS, "/blocks") == []
    return blocks


def test_root_of_a_modal_image_with_a_2990_character_url_and_caption_fits() -> None:
    url = "https://cdn.example.com/" + "&" * 2966  # each & becomes five characters
    image = Message(type=MessageType.IMAGE, media_url=url, text="<caption> " * 300)
    view = summary.RequestView(record(message=image), {"sent": 1000})
    blocks = fits(summary.root_blocks([view]))
    assert "…" in repr(blocks)
    assert len(summary.root_text([view])) <= 4000


def test_root_of_a_broadcast_to_many_channels_with_a_hostile_title_fits() -> None:
    views = [
        summary.RequestView(record(request_id=f"R{i:08d}", channel="c" * 60), {"failed": 3})
        for i in range(60)
    ]
    blocks = fits(summary.root_blocks(views, title="<!here> On-call"))
    assert "&lt;!here&gt;" in blocks[0]["text"]["text"]


def test_failure_list_with_many_long_hostile_reasons_fits_and_escapes() -> None:
    failed = [recipient(i, RecipientStatus.FAILED, f"{HOSTILE} {i} " * 40) for i in range(300)]
    unknown = [recipient(i, RecipientStatus.UNKNOWN, HOSTILE) for i in range(300, 320)]
    blocks = fits(summary.failure_blocks(record(), failed, unknown))
    assert "<!channel>" not in repr(blocks)
    text = summary.failure_text(record(), failed, unknown)
    assert len(text) <= 4000
    assert "<!channel>" not in text


def test_status_with_long_hostile_reasons_fits_and_escapes() -> None:
    reason = HOSTILE * 50
    rows = [recipient(i, RecipientStatus.FAILED, reason) for i in range(30)]
    status = RequestStatus(record=record(), counts={"failed": 30}, recipients=rows)
    blocks = fits(status_blocks(status))
    assert "<!channel>" not in repr(blocks)


def test_a_hostile_preset_title_from_config_is_escaped() -> None:
    preset = SimpleNamespace(title="<!channel> SRE", allowed_senders=["sre", "U0ALICE001"])
    view = broadcast_not_allowed([preset])  # type: ignore[list-item]
    assert view_problems(view) == []
    text = view["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt; SRE" in text
    assert "<@U0ALICE001>" in text
