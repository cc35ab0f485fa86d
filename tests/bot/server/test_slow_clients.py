"""Slow clients cannot hold the server (issue 15 item 1).

Found: 150 connections that sent 1 MiB minus one byte to /webhooks/tnt and stalled were still
open minutes later (memory 69 → 260 MiB, open files 12 → 381). Now a request head and a body must
arrive within their limits, idle connections are closed, and past the connection cap new
connections are answered 503 without a byte read. The limits here are tiny (0.3 s) so the tests
are quick; the bounds asserted are generous (a connection is closed, well before 5 s).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.server.env import EnvError, read_env
from bot.server.limits import HttpLimits
from tests.bot.bridge_kit import Bridge, start_bridge
from tests.bot.slow_client_kit import (
    ONE_MIB_LESS_ONE,
    connect,
    cut,
    head,
    server_of,
    until_closed,
)
from tests.clocks import wait_until

CAP = 8
LIMITS = {
    "BRIDGE_HEADER_TIMEOUT": "0.3",
    "BRIDGE_BODY_TIMEOUT": "0.3",
    "BRIDGE_MAX_CONNECTIONS": str(CAP),
}


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[Bridge]:
    running = await start_bridge(tmp_path, extra_env=LIMITS)
    try:
        yield running
    finally:
        await running.world.close()


@pytest.mark.parametrize(
    ("path", "length", "sent"),
    [
        ("/webhooks/tnt", ONE_MIB_LESS_ONE, ONE_MIB_LESS_ONE - 1),  # the 1 MiB - 1
        ("/slack/events", 300, 40),  # a small body, stalled
    ],
)
async def test_a_body_that_stalls_is_answered_408_and_closed(
    guarded: Bridge, path: str, length: int, sent: int
) -> None:
    conn = await connect(guarded)
    conn[1].write(head(path, length) + b"x" * sent)  # one byte (or more) short, then nothing
    answer = await until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]


async def test_a_client_that_leaves_mid_body_costs_no_traceback(
    guarded: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, writer = await connect(guarded)
    writer.write(head("/webhooks/tnt", 5000) + b"x" * 100)
    await writer.drain()
    await wait_until(lambda: server_of(guarded).cap.open == 1, what="the connection accepted")
    writer.close()
    ended = ("closed its connection", "Error handling request")  # ours, or aiohttp's traceback
    await wait_until(
        lambda: any(e in r.getMessage() for r in caplog.records for e in ended),
        what="the request being read given up",
    )
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= 40] == []


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connects and says nothing
        b"POST /slack/events HTTP/1.1\r\nHost: bridge\r\nContent-Le",  # half a head
    ],
)
async def test_a_head_that_stalls_is_closed(guarded: Bridge, sent: bytes) -> None:
    conn = await connect(guarded)
    conn[1].write(sent)
    assert await until_closed(conn) == b""  # closed, nothing answered


async def test_an_idle_keep_alive_connection_is_closed(guarded: Bridge) -> None:
    conn = await connect(guarded)
    conn[1].write(b"GET /metrics HTTP/1.1\r\nHost: bridge\r\n\r\n")  # keep-alive by default
    answer = await until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]


async def test_past_the_cap_connections_are_refused_and_slack_is_answered_after(
    guarded: Bridge,
) -> None:
    server = server_of(guarded)
    cut_before = {reason: cut(reason) for reason in ("full", "body")}
    stalled = [await connect(guarded) for _ in range(CAP)]
    for _, writer in stalled:
        writer.write(head("/webhooks/tnt", ONE_MIB_LESS_ONE) + b"x" * 1000)
    await wait_until(lambda: server.cap.open == CAP, what="every stalled client accepted")

    refused = await connect(guarded)  # one past the cap: refused at once, nothing read
    answer = await until_closed(refused)
    assert answer.startswith(b"HTTP/1.1 503 "), answer[:80]
    assert b"aiohttp" not in answer

    for conn in stalled:  # the slow ones are cut…
        assert (await until_closed(conn)).startswith(b"HTTP/1.1 408 ")
    status, _ = await guarded.user.slash("/send", "help")  # …and Slack is answered again
    assert status == 200
    assert server.cap.open <= 1  # only Slack's own connection, if it kept it
    assert cut("full") - cut_before["full"] == 1  # and /metrics tells the operator
    assert cut("body") - cut_before["body"] == CAP


def test_the_limits_have_defaults_and_refuse_nonsense_in_one_line() -> None:
    assert read_env({}).limits == HttpLimits()
    limits = read_env({"BRIDGE_BODY_TIMEOUT": "2.5", "BRIDGE_MAX_CONNECTIONS": "100"}).limits
    assert (limits.body_timeout, limits.max_connections) == (2.5, 100)
    for name, value in [
        ("BRIDGE_BODY_TIMEOUT", "soon"),
        ("BRIDGE_HEADER_TIMEOUT", "0"),
        ("BRIDGE_MAX_CONNECTIONS", "1.5"),
    ]:
        with pytest.raises(EnvError, match=name) as caught:
            read_env({name: value})
        assert "\n" not in str(caught.value)
