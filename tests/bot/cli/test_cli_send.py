"""``python -m bot send`` in a real subprocess against the emulators: TalkNTalk's doc examples,
one line per recipient, and the exit status (0 all sent, 1 any failed or unknown, 2 refused).

Every run is made with LOG_LEVEL=DEBUG and checked for the API keys on stdout and stderr. Runs of
one test go concurrently: each costs a Python start-up.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge_sandbox.emulators.suite import EmulatorSuite

from tests.bot.cli_kit import (
    TNT_GROUP_PATH,
    TNT_WA_PATH,
    assert_all_sent,
    bridge_yaml,
    cli_env,
    emulators,
    only,
    run_cli,
    send,
    send_all,
)
from tests.bot.dispatch_kit import GROUP, TNT_KEY

__all__ = ["bridge_yaml", "emulators"]


# --- TalkNTalk -------------------------------------------------------------------------------


async def test_send_sms_delivers_the_doc_example(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    run = await send(bridge_yaml, "--channel", "sms", "--text", "Hello from TalkNTalk!")

    assert_all_sent(run)
    [request] = emulators.talkntalk.requests
    assert request.path == "/v1/sms/send/"  # "POST /v1/sms/send/"
    assert request.headers["Authorization"] == f"Bearer {TNT_KEY}"
    # '{"mobile": "254712345678", "message": "Hello from TalkNTalk!", "sender_id": "TALKNTALK"}'
    assert request.body == {
        "mobile": "254712345678",
        "message": "Hello from TalkNTalk!",
        "sender_id": "TALKNTALK",
    }
    message_id = emulators.talkntalk.deliveries[0].message_id
    assert run.outcome_lines[0].split() == ["sent", "+254712345678", "id", str(message_id)]


async def test_send_whatsapp_delivers_the_text_image_and_file_doc_examples(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    base = ("--channel", "wa")
    runs = await send_all(
        bridge_yaml,
        (*base, "--text", "Hello from TalkNTalk!"),
        (
            *base,
            "--type",
            "image",
            "--media-url",
            "https://example.com/promo.jpg",
            "--text",
            "Check out our latest offer!",
        ),
        (
            *base,
            "--type",
            "file",
            "--media-url",
            "https://example.com/invoice.pdf",
            "--filename",
            "Invoice-001.pdf",
            "--mime-type",
            "application/pdf",
        ),
    )

    for run in runs:
        assert_all_sent(run)
    state = emulators.talkntalk
    assert len(state.requests) == 3
    # Text: '{"to": "254712345678", "type": "text", "message": "Hello from TalkNTalk!"}'
    assert only(state, TNT_WA_PATH, type="text").body == {
        "to": "254712345678",
        "type": "text",
        "message": "Hello from TalkNTalk!",
    }
    # Image: '"url": "https://example.com/promo.jpg", "message": "Check out our latest offer!"'
    assert only(state, TNT_WA_PATH, type="image").body == {
        "to": "254712345678",
        "type": "image",
        "url": "https://example.com/promo.jpg",
        "message": "Check out our latest offer!",
    }
    # File: '"filename": "Invoice-001.pdf", "mime_type": "application/pdf"'
    assert only(state, TNT_WA_PATH, type="file").body == {
        "to": "254712345678",
        "type": "file",
        "url": "https://example.com/invoice.pdf",
        "filename": "Invoice-001.pdf",
        "mime_type": "application/pdf",
    }


async def test_send_group_delivers_the_text_and_image_doc_examples(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    text_run, image_run = await send_all(
        bridge_yaml,
        ("--channel", "group", "--text", "Hello team!"),
        (
            "--channel",
            "group",
            "--type",
            "image",
            "--media-url",
            "https://example.com/banner.jpg",
            "--text",
            "New product launch!",
        ),
    )

    assert_all_sent(text_run)
    assert_all_sent(image_run)
    assert GROUP in text_run.outcome_lines[0]  # a group id is shown whole
    state = emulators.talkntalk
    # '{"to": "120363410923125768@g.us", "type": "text", "message": "Hello team!"}'
    assert only(state, TNT_GROUP_PATH, type="text").body == {
        "to": GROUP,
        "type": "text",
        "message": "Hello team!",
    }
    assert only(state, TNT_GROUP_PATH, type="image").body == {
        "to": GROUP,
        "type": "image",
        "url": "https://example.com/banner.jpg",
        "message": "New product launch!",
    }


# --- exit status ----------------------------------------------------------------------------------


async def test_send_prints_a_line_per_recipient_and_exits_1_when_any_failed_or_unknown(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    state = emulators.talkntalk
    state.inject(status=500)  # whichever request comes first: unknown
    state.balance = 1  # the next one is sent, the last gets 402 insufficient_balance
    run = await send(bridge_yaml, "--channel", "team-sms", "--text", "Hello from TalkNTalk!")

    assert run.code == 1
    lines = sorted(run.outcome_lines)
    assert [line.split()[0] for line in lines] == ["FAILED", "UNKNOWN", "sent"]
    assert "[402 insufficient_balance]" in lines[0]
    assert "not retried: check before sending again" in lines[1]
    shown = {line.split()[1] for line in lines}
    assert shown == {"+254700000001", "+254700000002", "+254700000003"}
    assert "1 sent, 1 failed, 1 unknown" in run.out
    assert len(state.requests) == 3  # neither the 500 nor the 402 was tried again


# (arguments, what the error says): each refused before anything is sent.
REFUSED = [
    (("--channel", "nope", "--text", "hi"), "There is no channel called `nope`"),
    (("--channel", "sms", "--to", "+254700000009", "--text", "hi"), "--to: `sms` only sends"),
    # The flag is named: the policy's words ("give numbers") are the modal's and /send's too.
    (
        ("--channel", "india-wa", "--text", "hi"),
        "error: --to: `india-wa` has no default recipients; give numbers to send to.",
    ),
    # The doc's own template example, '"template_id": "promo_template"', is refused locally:
    # AutoKonnect would answer invalid_template_id_format.
    (
        ("--channel", "waba", "--type", "template", "--template-id", "promo_template"),
        "template_id must be a number",
    ),
]


async def test_send_exits_2_for_a_refused_request_and_sends_nothing(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    runs = await asyncio.gather(*(send(bridge_yaml, *args) for args, _ in REFUSED))

    for run, (args, says) in zip(runs, REFUSED, strict=True):
        assert run.code == 2, (args, run.out, run.err)
        assert says in run.err, (args, run.err)
        assert run.outcome_lines == []
    for state in (emulators.talkntalk, emulators.autokonnect, emulators.kaleyra):
        assert state.requests == []


async def test_an_unreachable_database_is_refused_with_what_to_check(
    bridge_yaml: Path, emulators: EmulatorSuite
) -> None:
    env = cli_env(BRIDGE_DB="postgresql://bridge:s3cret-pw@127.0.0.1:1/bridge")
    run = await run_cli(
        "--config", str(bridge_yaml), "send", "--channel", "sms", "--text", "x", env=env
    )
    assert run.code == 1
    assert "cannot reach the send record" in run.err
    assert "BRIDGE_DB" in run.err
    assert "Traceback" not in run.err
    assert "s3cret" not in run.err + run.out
    assert emulators.talkntalk.requests == []
