"""What "the key leaked" means in the redaction tests, and an error reply that echoes it everywhere.

A leak is the key, or any piece of it ``MIN_FRAGMENT`` (8) or more characters long, in any
letter case. Not a test module: the provider and end-to-end tests share it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from bridge_sandbox.emulators.common import Fault
from bridge_sandbox.emulators.suite import EmulatorSuite, start_suite

from providers.redaction import MIN_FRAGMENT

# Random-looking keys: no 8-character piece of them is an ordinary word ("dispatch", "sandbox-")
# that a log line or a URL would hold anyway.
TNT_KEY = "tk_live_Q7vR2xLm9pZs4WkN8yTb0001"
AK_KEY = "ak_live_H3jF6dPw1cVx5MnB7qRz0002"
KAL_KEY = "Akal_U4gT8sKe2hYo6LiA9fDc0003"


@pytest.fixture
async def leaky_emulators() -> AsyncIterator[EmulatorSuite]:
    """The three emulators on loopback, knowing the keys above."""
    suite = await start_suite(talkntalk_key=TNT_KEY, autokonnect_key=AK_KEY, kaleyra_key=KAL_KEY)
    try:
        yield suite
    finally:
        await suite.close()


def fragments(key: str) -> set[str]:
    """Every lower-cased piece of ``key`` ``MIN_FRAGMENT`` characters long."""
    low = key.lower()
    return {low[i : i + MIN_FRAGMENT] for i in range(len(low) - MIN_FRAGMENT + 1)}


def leaked(key: str, seen: str | bytes) -> str | None:
    """The first piece of ``key`` found in ``seen`` (case-insensitive), or None."""
    text = seen.decode("latin-1") if isinstance(seen, bytes) else seen
    low = text.lower()
    return next((piece for piece in sorted(fragments(key)) if piece in low), None)


def assert_no_leak(key: str, where: str, seen: str | bytes) -> None:
    piece = leaked(key, seen)
    assert piece is None, f"a piece of the API key ({piece!r}) appears in {where}"


def echo_body(key: str) -> dict[str, Any]:
    """An error body with the key in every field a provider might use, in three letter cases;
    the long messages end with it, where cutting them to a line would cut the key."""
    return {
        "detail": "x" * 140 + " " + key,
        "message": "y" * 140 + " Invalid key " + key.upper(),
        "code": key.lower(),
        "error_code": key.upper(),
        "error": {"code": key, "message": "z" * 300 + key.swapcase(), "key": key},
        "extra": {"api_key": key, "echo": [key, key.upper(), key.lower()]},
        "success": False,
        key: "the key as a field name",
    }


def echo_fault(key: str, status: int = 400, times: int = 1) -> Fault:
    return Fault(status=status, body=echo_body(key), times=times)
