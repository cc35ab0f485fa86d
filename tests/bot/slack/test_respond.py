"""The response_url body is built by the bridge, the way bolt's respond() builds it."""

from __future__ import annotations

from slack_sdk.models.blocks import SectionBlock

from bot.slack.respond import build_message


def test_the_message_carries_what_was_given_and_nothing_else() -> None:
    assert build_message(text="hi", response_type="ephemeral", replace_original=False) == {
        "text": "hi",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert build_message(text="x", blocks=[], attachments=None, thread_ts=None) == {"text": "x"}


def test_block_objects_become_dicts() -> None:
    message = build_message(text="x", blocks=[SectionBlock(text="hi", block_id="b"), {"k": 1}])
    assert message["blocks"][0]["block_id"] == "b"
    assert message["blocks"][1] == {"k": 1}
