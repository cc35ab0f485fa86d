"""What ``BRIDGE_DB`` names: a SQLite file (a path) or a PostgreSQL database (a URL).

Why apart from the backends: the runtime and ``env`` decide and print this without importing a
database driver, and a URL's password must never reach a log line, an error or /healthz. A value
that looks like a URL of any other scheme (``postgresl://…``, ``sqlite:///…``) is refused rather
than taken for a file name: a typo must not quietly give each replica a store of its own.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

URL_SCHEMES = ("postgresql://", "postgres://")
ACCEPTED_FORMS = (
    "a SQLite file path (e.g. var/bridge.db) or a PostgreSQL URL "
    "(postgresql://user@host:5432/db, or postgres://…)"
)
# ``scheme:/`` at the start: the shape of a URL (RFC 3986 scheme), never a sensible file name.
_URL_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/")  # two letters at least: not C:/
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# Query parameters that carry a password (libpq: password, sslpassword), in any letter case.
_SECRET_PARAM = re.compile(r"(?i)([?&][^=&#]*password=)([^&#]*)")


class TargetError(ValueError):
    """``BRIDGE_DB`` names neither a file nor a PostgreSQL URL; the message says what to write."""


def is_postgres_url(target: str | os.PathLike[str]) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def check_target(target: str | os.PathLike[str]) -> None:
    """Refuse a URL-shaped value that is not ``postgresql://``/``postgres://`` (see module doc)."""
    text = os.fspath(target)
    if isinstance(text, str) and not is_postgres_url(text) and _URL_LIKE.match(text):
        raise TargetError(
            f"BRIDGE_DB {redact_url(text)!r} looks like a URL, but the bridge reads only "
            f"{ACCEPTED_FORMS}: fix the scheme, or write the plain path of a SQLite file"
        )


def _userinfo_end(rest: str) -> int:
    """Where the userinfo ends (its ``@``), or -1. The last ``@`` counts: a password may hold
    ``/``, ``?``, ``=`` or ``@`` unescaped, and showing too little beats showing a password."""
    return rest.rfind("@")


def redact_url(url: str) -> str:
    """The URL with every password form as ``***``: ``user:pw@`` and ``?password=`` (or
    ``sslpassword=``). Never raises, whatever the URL (bad port, broken IPv6 literal)."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        return url
    head, rest = url[: scheme.end()], url[scheme.end() :]
    at = _userinfo_end(rest)
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        rest = user + (":***" if colon else "") + rest[at:]
    return head + _SECRET_PARAM.sub(r"\1***", rest)


def url_secrets(url: str) -> tuple[str, ...]:
    """Every password the URL holds, as written and percent-decoded, longest first (to blot
    them out of a driver's error message, which may quote them)."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        return ()
    rest = url[scheme.end() :]
    found: set[str] = set()
    at = _userinfo_end(rest)
    if at >= 0 and ":" in rest[:at]:
        found.add(rest[:at].partition(":")[2])
    found.update(m.group(2) for m in _SECRET_PARAM.finditer(rest))
    found |= {unquote(value) for value in found}
    return tuple(sorted((v for v in found if v), key=len, reverse=True))


def scrub_url_secrets(text: str, url: str) -> str:
    """``text`` with every password of ``url`` replaced by ``***``."""
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text
