"""README's worked example of contact rules, urgency, quiet hours and canaries is a config that
``python -m bot check`` accepts, and check reads it back as the text tells it.

The block is read from README itself (under ``<!-- config-example: reach -->``), so the example
and the config cannot drift apart. It says ``urgency: low`` on an escalation: until escalations
take ``urgency`` the test is skipped, saying so, rather than checking a block with that line cut.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.schema_oncall import EscalationConfig
from tests.bot.cli_kit import cli_env, run_cli
from tests.bot.dispatch_kit import REPO

MARK = "<!-- config-example: reach -->"


def readme_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert MARK in text, "README lost its worked example of contact rules"
    found = re.search(r"```yaml\n(.*?)```", text.split(MARK, 1)[1], re.DOTALL)
    assert found is not None, f"no yaml block under {MARK}"
    return found.group(1)


def test_the_worked_example_is_the_one_the_text_describes() -> None:
    block = readme_block()
    assert "urgency: low" in block  # the low page of the timeline
    assert 'quiet: {from: "22:00", until: "07:00", timezone: Africa/Nairobi}' in block
    assert "- {via: oncall-sms, after: 2m}" in block
    assert "canaries:" in block


@pytest.mark.skipif(
    "urgency" not in EscalationConfig.model_fields,
    reason="escalations do not take urgency yet: the example's disk-warnings would be refused",
)
async def test_check_accepts_the_worked_example_and_reads_it_back(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(readme_block(), encoding="utf-8")
    env = cli_env(TALKNTALK_API_KEY="tk-readme-example-0001", KALEYRA_API_KEY="kal-readme-0002")
    run = await run_cli("--config", str(config), "check", env=env)
    assert run.code == 0, run.out + run.err
    assert "reach: oncall-wa at once, then oncall-sms after 2m" in run.out
    assert "quiet 22:00–07:00 Africa/Nairobi (holds low-urgency pages)" in run.out
    assert "reach: the escalation step's via" in run.out  # bob
    assert "oncall-sms  to +2547" in run.out
    assert "every 24h at 09:00 Africa/Nairobi" in run.out
