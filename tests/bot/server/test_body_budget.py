"""Bodies in flight share one budget (issue 15 item 1, memory).

Found: with the deadline and the connection cap alone, memory was bounded only by connections ×
1 MiB (500 stalled clients sending 1 MiB minus one byte: 69 → 394–672 MiB). Now each request
reserves its size from ``BRIDGE_BODY_BUDGET`` before its body is read, is refused 503 at once when
the budget cannot cover it, and gives the reservation back however it ends. The budget here is
4 MiB: bodies over 64 KiB may use 3 MiB of it (three 1 MiB bodies), the rest is Slack's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.server.bodies import BODY_BUDGET, SMALL_BODY, BodyBudget
from bot.server.env import EnvError, read_env
from tests.bot.bridge_kit import Bridge, start_bridge
from tests.bot.slow_client_kit import (
    ONE_MIB_LESS_ONE,
    Conn,
    connect,
    cut,
    head,
    server_of,
    until_closed,
)
from tests.clocks import wait_until

BIG = 3  # big bodies the budget's large share holds
LIMITS = {"BRIDGE_MAX_CONNECTIONS": "16", "BRIDGE_BODY_BUDGET": "4"}
HOLD = {**LIMITS, "BRIDGE_BODY_TIMEOUT": "60"}  # stalled clients stay until they leave
CUT = {**LIMITS, "BRIDGE_BODY_TIMEOUT": "0.3"}  # stalled clients are cut at once


async def bridge_with(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[Bridge]:
    running = await start_bridge(tmp_path, extra_env=env)
    try:
        yield running
    finally:
        await running.world.close()


@pytest.fixture
async def holding(tmp_path: Path) -> AsyncIterator[Bridge]:
    async for running in bridge_with(tmp_path, HOLD):
        yield running


@pytest.fixture
async def cutting(tmp_path: Path) -> AsyncIterator[Bridge]:
    async for running in bridge_with(tmp_path, CUT):
        yield running


def budget_of(bridge: Bridge) -> BodyBudget:
    return server_of(bridge).runner.app[BODY_BUDGET]


async def stall(bridge: Bridge, path: str, length: int, sent: int) -> Conn:
    conn = await connect(bridge)
    conn[1].write(head(path, length) + b"x" * sent)
    await conn[1].drain()
    return conn


async def stall_big(bridge: Bridge, n: int) -> list[Conn]:
    stalled = [await stall(bridge, "/webhooks/tnt", ONE_MIB_LESS_ONE, 1000) for _ in range(n)]
    budget = budget_of(bridge)
    await wait_until(lambda: budget.in_use == n * ONE_MIB_LESS_ONE, what="bodies reserved")
    return stalled


async def test_past_the_budget_a_body_is_refused_at_once_unread_and_slack_still_answered(
    holding: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    budget = budget_of(holding)
    refused_before = cut("budget")
    stalled = await stall_big(holding, BIG)
    assert budget.in_use + ONE_MIB_LESS_ONE <= budget.total  # the whole budget would cover it…

    # …but not the part big bodies may use: 503 with only a head sent, nothing read or reserved
    answer = await until_closed(await stall(holding, "/webhooks/tnt", ONE_MIB_LESS_ONE, 0))
    assert answer.startswith(b"HTTP/1.1 503 "), answer[:80]
    assert b"\r\nRetry-After: 60\r\n" in answer  # by then every body in flight is read or cut
    assert b"Connection: close" in answer
    # the same with body bytes already sent: answered, not drained
    answer = await until_closed(await stall(holding, "/webhooks/tnt", ONE_MIB_LESS_ONE, 5000))
    assert answer.startswith(b"HTTP/1.1 503 "), answer[:80]
    assert cut("budget") - refused_before == 2
    assert budget.in_use == BIG * ONE_MIB_LESS_ONE

    status, _ = await holding.user.slash("/send", "help")  # Slack's share is untouched
    assert status == 200
    small = await stall(holding, "/slack/events", 300, 40)  # a small body is still admitted
    await wait_until(lambda: budget.in_use == BIG * ONE_MIB_LESS_ONE + 300, what="small reserved")

    for _, writer in [*stalled, small]:  # the stalled clients leave mid-body…
        writer.close()
    await wait_until(lambda: budget.in_use == 0, what="every reservation given back")
    assert budget.large_in_use == 0
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= 40] == []
    again = await stall_big(holding, BIG)  # …and the whole share is there again
    for _, writer in again:
        writer.close()
    await wait_until(lambda: budget.in_use == 0, what="every reservation given back")


async def test_bodies_cut_for_time_give_their_reservation_back(cutting: Bridge) -> None:
    budget = budget_of(cutting)
    stalled = [await stall(cutting, "/webhooks/tnt", ONE_MIB_LESS_ONE, 1000) for _ in range(BIG)]
    stalled.append(await stall(cutting, "/slack/events", 300, 40))
    answers = await asyncio.gather(*(until_closed(conn) for conn in stalled))
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), [a[:40] for a in answers]
    assert (budget.in_use, budget.large_in_use) == (0, 0)
    status, _ = await cutting.user.slash("/send", "help")
    assert status == 200


async def test_a_declared_size_over_the_limit_is_413_at_once_and_reserves_nothing(
    holding: Bridge,
) -> None:
    answer = await until_closed(await stall(holding, "/webhooks/tnt", 2 << 20, 0))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:80]
    assert budget_of(holding).in_use == 0


def chunked_head(path: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()


async def test_a_chunked_body_reserves_the_limit_and_gives_it_back_however_it_ends(
    holding: Bridge,
) -> None:
    budget = budget_of(holding)
    conn = await connect(holding)
    conn[1].write(chunked_head("/webhooks/tnt") + b"10\r\n" + b"x" * 16 + b"\r\n")
    await wait_until(lambda: budget.in_use == 1 << 20, what="the endpoint's limit reserved")
    conn[1].close()  # leaves mid-body
    await wait_until(lambda: budget.in_use == 0, what="the reservation given back")

    conn = await connect(holding)  # a chunked body that grows past the limit: 413, given back
    chunk = b"x" * (1 << 16)
    conn[1].write(chunked_head("/webhooks/tnt"))
    for _ in range(17):
        conn[1].write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    answer = await until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:80]
    await wait_until(lambda: budget.in_use == 0, what="the reservation given back")


def test_big_bodies_may_use_three_quarters_small_ones_all() -> None:
    budget = BodyBudget(total=4 << 20)
    assert budget.take(3 << 20)
    assert not budget.take(SMALL_BODY + 1)  # the big bodies' share is full
    assert budget.take(SMALL_BODY)  # small ones still fit, up to the whole budget
    assert not budget.take((1 << 20) - SMALL_BODY + 1)
    budget.give_back(3 << 20)
    budget.give_back(SMALL_BODY)
    assert (budget.in_use, budget.large_in_use) == (0, 0)


def test_the_budget_is_64_mib_unless_set_and_nonsense_is_refused_in_one_line() -> None:
    assert read_env({}).limits.body_budget == 64 << 20
    assert read_env({"BRIDGE_BODY_BUDGET": "8"}).limits.body_budget == 8 << 20
    for value in ["1", "64MiB", "0", "-5", "2.5"]:
        with pytest.raises(EnvError, match="BRIDGE_BODY_BUDGET is a whole number of MiB") as e:
            read_env({"BRIDGE_BODY_BUDGET": value})
        assert "\n" not in str(e.value)
