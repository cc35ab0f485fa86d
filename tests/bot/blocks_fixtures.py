"""Settings for the pure Block Kit tests: the end-to-end config, plus a second broadcast preset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bridge_sandbox.slack.blockkit import element_state, find_element

import config
from config import Settings
from tests.bot.bridge_kit import CONFIG, KEYS

SECOND_PRESET = """\
  customers-outage:
    title: Customer outage notice
    channels: [customers]
    template: "{severity}: {text}"
    severities: [major, minor]
    allowed_senders: [U0ALICE001]
    announce_in: C0INCIDENT
"""

ENV = {
    **KEYS,
    "TNT_URL": "http://127.0.0.1:9",
    "AK_URL": "http://127.0.0.1:9",
    "KAL_URL": "http://127.0.0.1:9",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "bridge.yaml"
    path.write_text(CONFIG + SECOND_PRESET, encoding="utf-8")
    return config.load(path, ENV)


def choose(view: dict[str, Any], action_id: str, value: Any) -> dict[str, Any]:
    """Record a person's input in ``view.state.values`` exactly as Slack sends it."""
    block, element = find_element(view["blocks"], action_id)
    values = view.setdefault("state", {"values": {}})["values"]
    values.setdefault(block["block_id"], {})[action_id] = element_state(element, value)
    return view


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = view["blocks"]
    for b in blocks:
        if b.get("block_id") == block_id:
            return b
    raise LookupError(block_id)
