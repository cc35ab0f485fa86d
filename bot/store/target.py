"""What ``BRIDGE_DB`` names: a SQLite file (a path) or a PostgreSQL database (a URL).

Why apart from the backends: the runtime and ``env`` decide and print this without importing a
database driver, and a URL's password must never reach a log line or /healthz.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | os.PathLike[str]) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def redact_url(url: str) -> str:
    """The URL without its password (kept as ``***``); anything else unchanged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
