"""The YAML config: ``load(path) -> Settings``, or ``ConfigError`` listing every problem.

Steps: read the YAML with line numbers and ``${VAR}`` interpolation (``config.loader``), check it
against the models (``config.validation``), then follow references and normalise numbers
(``config.resolve``). All three report into one list, so one run shows everything to fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from config.describe import describe
from config.loader import PositionLoader, secret_issues
from config.numbers import InvalidNumber, mask_address, normalize_address, normalize_number
from config.problems import ConfigError, Problem, Reporter
from config.resolve import resolve
from config.schema import SECRET_FIELDS, BridgeConfig, BroadcastConfig, ChannelConfig
from config.settings import ResolvedBroadcast, ResolvedChannel, Senders, Settings
from config.validation import validate

DEFAULT_PATH = Path("config/bridge.yaml")


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """``$BRIDGE_CONFIG``, else ``config/bridge.yaml`` (what ``--config`` defaults to)."""
    env = os.environ if env is None else env
    return Path(env.get("BRIDGE_CONFIG") or DEFAULT_PATH)


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Settings:
    """Load, validate and resolve the config file; ``env`` defaults to ``os.environ``."""
    source = Path(path)
    shown = str(path)
    env = os.environ if env is None else env
    report = Reporter(shown, {})
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.add((), "no such file: copy config/bridge.example.yaml there, or pass --config")
        raise report.error() from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        report.add((), f"cannot read the file ({reason})")
        raise report.error() from None

    loader = PositionLoader(text, env, SECRET_FIELDS)
    try:
        doc = loader.load_document()
    except yaml.MarkedYAMLError as exc:
        # Only the parser's phrases, never its snippet of the line: it could hold a secret.
        mark = exc.problem_mark or exc.context_mark
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        if "\\t" in what or "\t" in what:
            what += " (indent with spaces, not tabs)"
        line = mark.line + 1 if mark is not None else None
        report.add((), f"not valid YAML: {what}", line=line)
        raise report.error() from None
    except yaml.YAMLError as exc:
        report.add((), f"not valid YAML: {type(exc).__name__}")
        raise report.error() from None

    report.positions = doc.positions
    for issue in [*doc.issues, *secret_issues(doc, SECRET_FIELDS)]:
        report.add(issue.path, issue.message, line=issue.line)
    parts = validate(doc.data, report)
    settings = resolve(parts, report, source)
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
