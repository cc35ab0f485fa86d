"""LOG_LEVEL and LOG_FORMAT: plain lines with their context, or one JSON object a line."""

from __future__ import annotations

import json
import logging

import pytest

from bot import logs


def emit(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> str:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logs.configure(env)
    try:
        logging.getLogger("bridge.test").info(
            "provider attempt failed", extra={"request_id": "R1", "status": 500}
        )
        logging.getLogger("bridge.test").debug("hidden at INFO")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return capsys.readouterr().err


def test_text_lines_carry_their_context(capsys: pytest.CaptureFixture[str]) -> None:
    line = emit(capsys, {})
    assert "INFO bridge.test: provider attempt failed request_id=R1 status=500" in line
    assert "hidden at INFO" not in line


def test_json_format_is_one_object_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    [line] = emit(capsys, {"LOG_FORMAT": "json"}).splitlines()
    record = json.loads(line)
    assert record["message"] == "provider attempt failed"
    assert (record["level"], record["request_id"], record["status"]) == ("INFO", "R1", 500)


def test_log_level_debug_shows_debug_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert "hidden at INFO" in emit(capsys, {"LOG_LEVEL": "debug"})


def test_a_newline_in_user_text_cannot_forge_a_plain_log_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A Slack user_id or text with control characters stays on its own line, escaped."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    logs.configure({})
    forged = "U0ALICE001\n2026-01-01 00:00:00 ERROR bot.web: forged\r\x1b[2J"
    try:
        logging.getLogger("bridge.test").warning("from %s", forged, extra={"user": forged})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    [line] = capsys.readouterr().err.splitlines()
    assert "from U0ALICE001\\n2026-01-01 00:00:00 ERROR bot.web: forged\\r\\x1b[2J" in line
    assert "user=U0ALICE001\\n2026" in line
    assert "\x1b" not in line
