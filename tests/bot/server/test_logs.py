"""LOG_LEVEL and LOG_FORMAT: plain lines with their context, or one JSON object a line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.server import logs


@pytest.fixture(autouse=True)
def _restore_library_levels() -> Iterator[None]:
    """``configure`` sets third-party logger levels: give other tests theirs back."""
    levels = {name: logging.getLogger(name).level for name in logs.THIRD_PARTY}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def emit(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> str:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logs.configure(env)
    try:
        logging.getLogger("bot.test").info(
            "provider attempt failed", extra={"request_id": "R1", "status": 500}
        )
        logging.getLogger("bot.test").debug("hidden at INFO")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return capsys.readouterr().err


def test_text_lines_carry_their_context(capsys: pytest.CaptureFixture[str]) -> None:
    line = emit(capsys, {})
    assert "INFO bot.test: provider attempt failed request_id=R1 status=500" in line
    assert "hidden at INFO" not in line


def test_json_format_is_one_object_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = emit(capsys, {"LOG_FORMAT": "json"}).splitlines()
    record = json.loads(line)
    assert record["message"] == "provider attempt failed"
    assert (record["level"], record["request_id"], record["status"]) == ("INFO", "R1", 500)


def test_log_level_debug_shows_debug_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert "hidden at INFO" in emit(capsys, {"LOG_LEVEL": "debug"})


def test_json_lines_keep_the_traceback_with_secrets_and_numbers_scrubbed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = "tk_live_JsonTraceback-0106"
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logs.configure({"LOG_FORMAT": "json", "TALKNTALK_API_KEY": key})
    try:
        try:
            raise ValueError(f"refused {key.upper()} for +254712345678")
        except ValueError:
            logging.getLogger("bot.test").exception("send crashed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["exc_type"] == "ValueError"
    assert record["exc_info"].startswith("Traceback (most recent call last):")
    assert "test_logs.py" in record["exc_info"]
    assert "ValueError: refused ••• for •••678" in record["exc_info"]
    assert key.lower() not in line.lower()
    assert "254712345678" not in line


def test_third_party_loggers_stay_at_warning_at_debug() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        logs.configure({"LOG_LEVEL": "DEBUG"})
        assert logging.getLogger("bot.test").isEnabledFor(logging.DEBUG)
        for name in ("asyncpg", "slack_sdk.web.async_base_client", "aiohttp.client", "asyncio"):
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
            assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_a_newline_in_user_text_cannot_forge_a_plain_log_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A Slack user_id or text with control characters stays on its own line, escaped."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logs.configure({})
    forged = "U0ALICE001\n2026-01-01 00:00:00 ERROR bot.server.web: forged\r\x1b[2J"
    try:
        logging.getLogger("bot.test").warning("from %s", forged, extra={"user": forged})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    [line] = capsys.readouterr().err.splitlines()
    assert "from U0ALICE001\\n2026-01-01 00:00:00 ERROR bot.server.web: forged\\r\\x1b[2J" in line
    assert "user=U0ALICE001\\n2026" in line
    assert "\x1b" not in line


async def test_slack_bolt_debug_lines_stay_out_at_log_level_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bolt gives the loggers it makes the root's level (DEBUG), past ``slack_bolt``'s WARNING:
    a real app handling a real event at LOG_LEVEL=DEBUG must still write none of its DEBUG."""
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logs.configure({"LOG_LEVEL": "DEBUG"})
    try:
        app = AsyncApp(
            signing_secret="s" * 32,
            token="xoxb-test",
            request_verification_enabled=False,
        )

        @app.event("app_mention")
        async def mention() -> None:
            return None

        body = '{"type":"event_callback","team_id":"T1","event":{"type":"reaction_added"}}'
        request = AsyncBoltRequest(body=body, headers={"content-type": ["application/json"]})
        bolt_logger = logging.getLogger("slack_bolt.AsyncApp")
        assert bolt_logger.isEnabledFor(logging.DEBUG)  # what bolt did to the level
        await app.async_dispatch(request)
        logging.getLogger("bot.test").debug("the bridge's own debug line")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "DEBUG bot.test: the bridge's own debug line" in err
    assert [line for line in err.splitlines() if " DEBUG " in line and "bot.test" not in line] == []
