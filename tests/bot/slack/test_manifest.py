"""config/slack-manifest.yml: the slash command's usage hint names every keyword the parser reads,
so what Slack suggests while typing is every command there is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.slack.parse import KEYWORDS

MANIFEST = Path(__file__).resolve().parents[3] / "config" / "slack-manifest.yml"


def test_the_usage_hint_names_every_command_keyword() -> None:
    manifest: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    [command] = manifest["features"]["slash_commands"]
    words = {part.strip().split(" ")[0] for part in command["usage_hint"].strip("[]").split("|")}
    assert words >= KEYWORDS, sorted(KEYWORDS - words)
    assert len(command["usage_hint"]) <= 1000  # Slack's limit for the field
