"""`check`'s words: counts agree with their nouns ("up to 1 request", not "1 requests")."""

from __future__ import annotations

from pathlib import Path

from config.describe import describe
from tests.config.helpers import PROVIDERS, load

CHANNELS = """\
contacts:
  oncall: ["+254712345678"]
channels:
  oncall-sms:
    provider: tnt
    service: sms
    to: [oncall]
    allowed_senders: [U0ALICE001]
"""


def test_one_request_at_once_is_singular(tmp_path: Path) -> None:
    one = PROVIDERS.replace(
        "    api_key: ${TNT_KEY}\n", "    api_key: ${TNT_KEY}\n    max_concurrency: 1\n"
    )
    text = describe(load(tmp_path, one + CHANNELS))
    assert "up to 1 request at once" in text
    assert "1 requests" not in text
    assert "up to 16 requests at once" in text  # the other accounts keep the default
