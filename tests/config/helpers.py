"""Write a config into a temp dir and load it; texts start at line 1 so line numbers are exact."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

import config
from config import ConfigError, Problem, Settings

ENV = {"TNT_KEY": "tnt-secret-0001", "AK_KEY": "ak-secret-0002", "KAL_KEY": "kal-secret-0003"}

PROVIDERS = """\
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}
  ak:
    type: autokonnect
    api_key: ${AK_KEY}
  kal:
    type: kaleyra
    api_key: ${KAL_KEY}
    sid: HXAP16XXXXXX97IN
    pod: in
"""  # 12 lines

# One provider, one ad-hoc SMS channel, the sre senders and alice: the least an escalation
# needs, for tests that add escalations and integrations after it.
SMS_BASE = """\
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}
senders:
  sre: [U012ABCDEF]
channels:
  oncall-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allow_adhoc: true
    allowed_senders: [sre]
people:
  alice: {phone: "+254712345678", slack: U0ALICE001}
"""  # 15 lines


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> Settings:
    return config.load(write(tmp_path, text), ENV if env is None else env)


def problems(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    return caught.value.problems


def one(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> Problem:
    found = problems(tmp_path, text, env)
    assert len(found) == 1, "\n".join(str(p) for p in found)
    return found[0]
