"""Logging set-up from LOG_LEVEL and LOG_FORMAT (``json``: one JSON object a line).

Secrets never reach a log record in the first place; this module shapes the output, keeps
third-party loggers (which print SQL parameters and request bodies: whole phone numbers and
message text) at WARNING whatever LOG_LEVEL says, and, as a second line of defence, blots the
values of secret-named environment variables out of the tracebacks JSON lines carry.

Why a handler filter as well as logger levels: slack_bolt gives each logger it makes the root's
level (``DEBUG`` under ``LOG_LEVEL=DEBUG``), which overrides any level set on ``slack_bolt``; so
below WARNING only the bridge's own packages (``OWN``) reach the output, whatever logger spoke.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from config.secrets import SECRET_NAME

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

# Libraries that log what they carry at DEBUG (asyncpg: server notices with their SQL; slack_sdk
# and aiohttp.client: request bodies; asyncio: slow callbacks with their arguments).
THIRD_PARTY = ("asyncpg", "slack_sdk", "slack_bolt", "aiohttp.client", "asyncio", "websockets")
# The bridge's own packages: the only loggers whose lines below WARNING are written.
OWN = ("bot", "config", "providers", "bridge_sandbox")
_PHONE = re.compile(r"(?<![\w.])\+?\d{6,12}(\d{3})(?![\w.])")  # 9-15 digits: E.164


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values of secret-named environment variables, longest first (see config.secrets)."""
    found = {v for k, v in env.items() if SECRET_NAME.search(k.upper()) and len(v) >= 6}
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Secrets (any letter case) out, then phone-like digit runs masked to their last three."""
    for secret in secrets:
        text = re.sub(re.escape(secret), "•••", text, flags=re.IGNORECASE)
    return _PHONE.sub(lambda m: "•••" + m.group(1), text)


def quiet_third_party(level: int) -> None:
    """Third-party loggers at WARNING or above, whatever LOG_LEVEL says (see THIRD_PARTY)."""
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, level))


def is_own(logger_name: str) -> bool:
    """A logger of the bridge's own packages (``bot.send.run``, ``config`` …), not a library's."""
    return logger_name.split(".", 1)[0] in OWN


class QuietLibraries(logging.Filter):
    """Lets a record below WARNING through only from the bridge's own loggers (see module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or is_own(record.name)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any ``extra=`` fields beside the message; a traceback is
    kept whole in ``exc_info`` (scrubbed), since a JSON line is all an operator gets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            data["exc_info"] = scrub(self.formatException(record.exc_info), self.secrets)
        if record.stack_info:
            data["stack_info"] = scrub(self.formatStack(record.stack_info), self.secrets)
        return json.dumps(data, default=str)


# C0 and C1 controls, DEL, and the Unicode line/paragraph separators: anything a terminal or a
# log shipper could take for a new line or an escape sequence.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """``\\n``, ``\\x1b``… for control characters, so text from Slack cannot forge a log line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class TextFormatter(logging.Formatter):
    """The plain format, with any ``extra=`` fields as ``key=value`` so context is never lost.

    The message and the extras are one line whatever they contain (control characters escaped);
    only a traceback, which the bridge itself writes, spans lines after it.
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = [
            escape_controls(f"{key}={value}")
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        ]
        if extras:
            line += " " + " ".join(extras)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def configure(env: dict[str, str] | None = None) -> None:
    env = dict(os.environ) if env is None else env
    level = env.get("LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(QuietLibraries())
    if env.get("LOG_FORMAT", "").lower() == "json":
        handler.setFormatter(JsonFormatter(secret_values(env)))
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    quiet_third_party(root.level)
