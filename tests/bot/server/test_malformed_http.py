"""Malformed HTTP (a NUL in a header) is answered 400 with one log line, never a traceback.

Found by the webhook fuzzer: aiohttp answered 400 but logged each one at ERROR with a full
traceback, so anyone could fill the bridge's logs with tracebacks.
"""

from __future__ import annotations

import logging

import pytest

from tests.bot.bridge_kit import Bridge
from tests.bot.receipts.test_receipts_hostile import raw_post


@pytest.mark.parametrize("path", ["/webhooks/tnt", "/slack/events"])
async def test_a_nul_in_a_header_is_a_400_and_one_line(
    bridge: Bridge, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.INFO)
    answer = await raw_post(bridge, path, {"X-TalkNTalk-Event": b"\x00"}, b"{}")
    assert answer.split(b"\r\n", 1)[0].split()[1] == b"400", answer[:80]
    assert [r for r in caplog.records if r.exc_info] == []
    assert any("malformed HTTP request" in r.getMessage() for r in caplog.records)
