"""Secrets in the config file: only from the environment, and only where they are kept secret.

A secret field (``api_key``, ``webhook_secret``) must be exactly ``${VAR}``. The other way round
matters as much: ``check`` prints non-secret fields and Slack shows some of them, so a secret
variable placed in one (``sender_id: ${TALKNTALK_API_KEY}``) would be shown. Which variables
are secret: every one a secret field names, and any whose name says so (``*_API_KEY``,
``*_SECRET``, ``*_TOKEN``, ``*_PASSWORD``, which covers Slack's tokens and signing secret).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from config.loader import Document, Issue, Origin
from config.problems import KeyPath
from config.schema_alerts import INTEGRATION_SECRETS

SECRET_NAME = re.compile(r"(?:_API_KEY|_SECRET|_TOKEN|_PASSWORD)$|^SLACK_\w*(?:TOKEN|SECRET)")


def secret_vars(doc: Document) -> set[str]:
    """The environment variables whose values must never be shown."""
    named = {ref.var for ref in doc.refs if ref.secret_field}
    return named | {ref.var for ref in doc.refs if SECRET_NAME.search(ref.var.upper())}


def misplaced_secrets(
    doc: Document, secret_fields: frozenset[str], env: Mapping[str, str]
) -> list[Issue]:
    """A secret variable used in a non-secret field: named, never its value (which is also
    added to ``doc.secrets`` so no other message can show it)."""
    secret = secret_vars(doc)
    fields = " or ".join(sorted(secret_fields))
    issues: list[Issue] = []
    for ref in doc.refs:
        if ref.secret_field or ref.var not in secret:
            continue
        value = env.get(ref.var)
        if value:
            doc.secrets.append(value)
        issues.append(
            Issue(
                ref.path,
                ref.line,
                f"${{{ref.var}}} is a secret, and this field is not kept secret (check and Slack "
                f"show it): use a variable that holds no secret; secrets go only in {fields}",
            )
        )
    return issues


def secret_issues(doc: Document, secret_fields: frozenset[str]) -> list[Issue]:
    """A secret field must be exactly ``${VAR}``: not literal, not mixed, no default in the file.
    Providers' secret fields, and each integration's ``key``."""
    issues: list[Issue] = []
    data = doc.data if isinstance(doc.data, dict) else {}
    sections = (
        ("providers", secret_fields),
        ("integrations", INTEGRATION_SECRETS),
        ("heartbeats", INTEGRATION_SECRETS),
    )
    for section, fields in sections:
        entries = data.get(section)
        if isinstance(entries, dict):
            issues += _section_secrets(doc, section, entries, fields)
    return issues


def _section_secrets(
    doc: Document, section: str, entries: dict[Any, Any], secret_fields: frozenset[str]
) -> list[Issue]:
    issues: list[Issue] = []
    for name, account in entries.items():
        if not isinstance(account, dict):
            continue
        kind = account.get("type") if section == "providers" else f"alerts_{name}"
        prefix = str(kind if isinstance(kind, str) and kind.isidentifier() else name)
        for key in sorted(secret_fields & account.keys()):
            path: KeyPath = (section, name, key)
            origin, _default = doc.origins.get(path, (Origin.LITERAL, None))
            if origin is Origin.ENV:
                continue
            var = re.sub(r"[^A-Z0-9_]", "_", f"{prefix}_{key}".upper())
            if origin is Origin.ENV_DEFAULT:
                what = f"{key} must come from the environment alone: drop the default from the file"
            else:
                what = f"{key} must come from the environment"
            line = doc.positions.get(path, 1)
            issues.append(Issue(path, line, f"{what}: write {key}: ${{{var}}}"))
    return issues
