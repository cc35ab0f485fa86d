"""The YAML config: ``load(path) -> Settings``, or ``ConfigError`` listing every problem.

Steps: read the YAML with line numbers and ``${VAR}`` interpolation (``config.loader``), check it
against the models (``config.validation``), then follow references and normalise numbers
(``config.resolve``). All three report into one list, so one run shows everything to fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import yaml

from config.describe import describe
from config.loader import (
    MAX_FILE_BYTES,
    LoadAborted,
    PositionLoader,
    too_big,
)
from config.numbers import InvalidNumber, mask_address, normalize_address, normalize_number
from config.problems import ConfigError, Problem, Reporter, yaml_problem
from config.resolve import resolve
from config.schema import SECRET_FIELDS, BridgeConfig, BroadcastConfig, ChannelConfig
from config.secrets import misplaced_secrets, secret_issues
from config.settings import ResolvedBroadcast, ResolvedChannel, Senders, Settings
from config.validation import validate

DEFAULT_PATH = Path("config/bridge.yaml")


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """``$BRIDGE_CONFIG``, else ``config/bridge.yaml`` (what ``--config`` defaults to)."""
    env = os.environ if env is None else env
    return Path(env.get("BRIDGE_CONFIG") or DEFAULT_PATH)


def load(
    path: str | Path, env: Mapping[str, str] | None = None, now: datetime | None = None
) -> Settings:
    """Load, validate and resolve the config file; ``env`` defaults to ``os.environ``; ``now``
    (default: the current time) is where schedules are checked for gaps."""
    source = Path(path)
    shown = str(path)
    env = os.environ if env is None else env
    report = Reporter(shown, {})
    try:
        with source.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        report.add((), "no such file: copy config/bridge.example.yaml there, or pass --config")
        raise report.error() from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        report.add((), f"cannot read the file ({reason})")
        raise report.error() from None
    if len(raw) > MAX_FILE_BYTES:
        report.add((), too_big())
        raise report.error()

    try:
        loader = PositionLoader(text, env, SECRET_FIELDS)
        doc = loader.load_document()
    except LoadAborted as exc:
        report.add(exc.issue.path, exc.issue.message, line=exc.issue.line)
        raise report.error() from None
    except RecursionError:  # a backstop: the loader's own limits should come first
        report.add((), "the file nests too deeply or an alias refers to itself: simplify it")
        raise report.error() from None
    except yaml.YAMLError as exc:
        message, line = yaml_problem(exc, text)
        report.add((), message, line=line)
        raise report.error() from None

    report.positions = doc.positions
    misplaced = misplaced_secrets(doc, SECRET_FIELDS, env)
    for issue in [*doc.issues, *secret_issues(doc, SECRET_FIELDS), *misplaced]:
        report.add(issue.path, issue.message, line=issue.line)
    parts = validate(doc.data, report)
    settings = resolve(parts, report, source, now)
    if settings is None or report.problems:
        raise report.error(doc.secrets)
    return settings


__all__ = [
    "DEFAULT_PATH",
    "BridgeConfig",
    "BroadcastConfig",
    "ChannelConfig",
    "ConfigError",
    "InvalidNumber",
    "Problem",
    "ResolvedBroadcast",
    "ResolvedChannel",
    "Senders",
    "Settings",
    "default_path",
    "describe",
    "load",
    "mask_address",
    "normalize_address",
    "normalize_number",
]
