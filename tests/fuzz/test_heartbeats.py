"""Fuzz ``POST /heartbeat/<name>``: any name, any body (or none, or not UTF-8, or large) and any
credentials get 200, 401 or 413 only, never a 5xx or a traceback; a wrong key never 200."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.bot.alerts_kit import ALERTS, AM_KEY, HB_KEY, KEYS
from tests.bot.paging_kit import PAGING
from tests.fuzz.slack_rig import CONFIG, Rig, rig_for
from tests.fuzz.test_alerts import FUZZ

HEARTBEAT_ANSWERS = frozenset({200, 401, 413})
HEARTBEATS = """
heartbeats:
  watchdog:
    key: ${HB_KEY}
    every: 1m
    grace: 2m
    escalation: db-outage
"""
NAMES = st.sampled_from(["watchdog"] * 4 + ["nobody", "%C3%A9", "watchdog%00", "a" * 300])
AUTH = st.sampled_from(
    [f"Bearer {HB_KEY}".encode(), f"Bearer {AM_KEY}".encode(), b"Bearer wrong", b"",
     b"Bearer \xff\xfe", "Bearer ünïcödé".encode(), f"Basic {HB_KEY}".encode(),
     f"bearer   {HB_KEY}  ".encode()]
)  # fmt: skip
BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=300),
    st.text(max_size=100).map(str.encode),
    st.integers(1_000, 2_000_000).map(lambda n: b"x" * n),
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    config = CONFIG + PAGING.replace("sms-adhoc", "oncall-sms") + ALERTS + HEARTBEATS
    yield from rig_for(Path(tmp_path_factory.mktemp("fuzz-heartbeats")), config, KEYS)


@FUZZ
@given(data=st.data())
def test_any_ping_gets_200_401_or_413(rig: Rig, data: Any) -> None:
    name = data.draw(NAMES)
    body = data.draw(BODIES)
    headers: dict[str, bytes] = {}
    if auth := data.draw(AUTH):
        headers["Authorization"] = auth
    rig.catcher.clear()
    status, seconds = rig.raw_request(f"/heartbeat/{name}", body, headers)
    problems = rig.settle("heartbeat", status, seconds, HEARTBEAT_ANSWERS)
    assert status in HEARTBEAT_ANSWERS, (name, headers, body[:100])
    if status == 200:
        assert name == "watchdog"
        assert HB_KEY.encode() in headers.get("Authorization", b"")
    assert problems == []
