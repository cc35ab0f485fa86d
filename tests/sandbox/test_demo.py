"""The newcomer's first command: the demo runs every flow and prints the thread truthfully."""

from __future__ import annotations

import io
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
