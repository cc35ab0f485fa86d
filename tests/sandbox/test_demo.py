"""The newcomer's first command: the demo runs every flow and prints the thread truthfully."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from bridge_sandbox.demo import run_demo


async def test_demo_runs_the_three_flows_and_prints_the_channel() -> None:
    out = io.StringIO()
    assert await run_demo(out) == 0
    text = out.getvalue()
    assert "Demo finished: every flow ended as expected." in text
    assert "sent 2/2 · failed 0" in text  # the slash command
    assert "1 failed* on *sms-adhoc*" in text  # the modal send, with its failure listed
    assert "a retry of request" in text  # Retry failed
    assert "On-call broadcast* by @alice to *oncall-sms*, *noc-group*" in text
    assert "[SEV1] Checkout is down in eu-west (from alice)" in text
    assert "+254712345678" not in text  # numbers are masked in what people read


async def test_demo_pages_escalates_once_and_is_acknowledged_by_the_link() -> None:
    out = io.StringIO()
    assert await run_demo(out) == 0
    text = out.getvalue()
    page_id = re.search(r"page \*(P[0-9A-Z]{8})\*", text)
    assert page_id is not None, text
    pid = page_id.group(1)
    # Each person's SMS: the text, how to acknowledge, and a link to this bridge.
    sms = re.findall(
        rf"gets an SMS:\n    │ Primary database refuses writes; checkout is failing\n"
        rf"    │ Ack: /send ack {pid}\n    │ (http://127\.0\.0\.1:\d+/ack/\S+)\n",
        text,
    )
    assert len(sms) == 2  # step 1 (bob), then step 2 (carol) after the wait: one escalation
    assert "step 1: bob (+2547•••••432)" in text
    assert "step 2: carol (+2547•••••777)" in text
    assert f"her browser shows: Acknowledge page Page {pid} (db-outage)" in text
    assert f"she presses Acknowledge: Acknowledged Page {pid} is acknowledged." in text
    # The root message, as Slack shows it after the ack, and the timeline in its thread.
    root = text.split("The page in #ops-incidents, with its timeline in the thread:", 1)[1]
    assert f"*Page {pid}* · db-outage" in root
    assert re.search(r"\*Acknowledged\* by carol after 7m \d+s", root)
    timeline = [
        "paged @bob by sms-adhoc",
        "escalated to step 2",
        "paged carol by sms-adhoc",
        "acknowledged by carol (link)",
    ]
    positions = [root.index(event) for event in timeline]
    assert positions == sorted(positions)
    assert "[Acknowledge]" not in root.split("The #ops-incidents channel", 1)[0]


def test_the_product_without_the_sandbox_says_in_one_line_how_to_get_the_demo() -> None:
    """An installed product has no emulators or loopback Slack: the demo says where they are."""
    hide_sandbox = (
        "import sys; sys.modules['bridge_sandbox'] = None; "
        "from bot.__main__ import main; sys.exit(main(['demo']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide_sandbox], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "pip install -e ./sandbox" in line
