"""The transcript reads like the Slack channel a person sees."""

from __future__ import annotations

from typing import Any

from bridge_sandbox.slack.records import Ephemeral
from bridge_sandbox.slack.state import SlackState
from bridge_sandbox.slack.transcript import mrkdwn, render_channel, render_thread

from tests.fixtures import slack_payload

BUTTON_MESSAGE = slack_payload("block_actions_message_button.json")["message"]


def small_thread() -> tuple[SlackState, str]:
    state = SlackState()
    root = state.post("C0INCIDENT", "Checkout errors at 30% <@U0BOB00002>", user="U0CAROL003")
    summary: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Broadcast #42"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": ":hourglass: *sent 3/3* by <@U0ALICE001>"},
            "fields": [
                {"type": "mrkdwn", "text": "*Channel*\noncall-sms"},
                {"type": "mrkdwn", "text": "*Recipients*\n3"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "request `r-42`"}]},
        {"type": "divider"},
    ]
    state.post("C0INCIDENT", "Broadcast #42", summary, thread_ts=root.ts)
    state.post("C0INCIDENT", "2 delivered, 1 failed", BUTTON_MESSAGE["blocks"], thread_ts=root.ts)
    state.ephemerals.append(
        Ephemeral("C0INCIDENT", "U0ALICE001", state.next_ts(), "Queued broadcast #42")
    )
    return state, root.ts


def test_a_small_thread_reads_like_slack() -> None:
    state, _ = small_thread()
    assert render_channel(state, "C0INCIDENT", viewer="U0ALICE001") == (
        "#ops-incidents\n"
        "════════════════════════════════════════════════\n"
        "carol  00:00\n"
        "    Checkout errors at 30% @bob\n"
        "    │ 2 replies\n"
        "    │ chatops-bridge  APP  00:00\n"
        "    │     Broadcast #42\n"
        "    │     ═════════════\n"
        "    │     :hourglass: *sent 3/3* by @alice\n"
        "    │     *Channel*    *Recipients*\n"
        "    │     oncall-sms   3\n"
        "    │     request `r-42`\n"
        "    │     ────────────────────────────────────────────────\n"
        "    │\n"
        "    │ chatops-bridge  APP  00:00\n"
        "    │     *Broadcast #42* to `oncall-payments`: 2 delivered, 1 failed\n"
        "    │     [Retry failed] [Cancel]\n"
        "\n"
        "chatops-bridge  APP  00:00  (only visible to you)\n"
        "    Queued broadcast #42\n"
    )


def test_another_viewer_does_not_see_alices_ephemeral() -> None:
    state, _ = small_thread()
    assert "Queued broadcast" not in render_channel(state, "C0INCIDENT", viewer="U0BOB00002")
    assert "(only visible to you) · alice" in render_channel(state, "C0INCIDENT")


def test_render_thread_shows_the_root_and_its_replies_only() -> None:
    state, root_ts = small_thread()
    state.post("C0INCIDENT", "unrelated")
    text = render_thread(state, "C0INCIDENT", root_ts)
    assert text.startswith("carol  00:00\n    Checkout errors at 30% @bob\n")
    assert "[Retry failed] [Cancel]" in text
    assert "unrelated" not in text


def test_edits_deletions_and_broadcast_replies_are_marked() -> None:
    state, root_ts = small_thread()
    reply = state.post("C0INCIDENT", "done", thread_ts=root_ts, reply_broadcast=True)
    reply.edit("all done", None, 0.0)
    gone = state.post("C0INCIDENT", "oops")
    gone.deleted = True
    text = render_channel(state, "C0INCIDENT")
    assert "replied to a thread  (edited)\n    all done" in text
    assert "oops" not in text


def test_mrkdwn_links_and_mentions_read_as_slack_shows_them() -> None:
    state = SlackState()
    state.users["U0SUP"] = "support"
    raw = (
        "<!here> <@U0SUP> in <#C0INCIDENT> see <https://x.example/r/42|request 42> &amp; "
        "<!subteam^S0SRE|@sre> :fire:"
    )
    assert mrkdwn(raw, state) == "@here @support in #ops-incidents see request 42 & @sre :fire:"
