"""``python -m bot check`` in a real subprocess: what a config resolves to, or every problem.

README, "Config guide": check "prints what each channel reaches and who may use it, or lists
every problem at once ... and exits 1". And Operations, "Logs": "API keys never appear in logs".
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.bot.cli_kit import cli_env, run_cli
from tests.bot.dispatch_kit import REPO

EXAMPLE_KEYS = {
    "TALKNTALK_API_KEY": "tk_live_CHECK-tnt-key-must-never-print-0101",
    "AUTOKONNECT_API_KEY": "ak_live_CHECK-ak-key-must-never-print-0102",
    "KALEYRA_API_KEY": "Akal_CHECK-kal-key-must-never-print-0103",
}

# Four problems on four lines: a misspelt key, a secret written in the file, a bad number in a
# contact list, a channel naming an account that does not exist.
BAD = """\
defaults:
  country: KE
  max_recipent: 5
providers:
  tnt:
    type: talkntalk
    api_key: tk_live_literal-secret-in-the-file-0104
contacts:
  oncall: ["+254712345678", "07 bad"]
channels:
  sms:
    provider: tnnt
    service: sms
    to: [oncall]
    allowed_senders: [U0SRE0001]
"""


async def test_check_on_a_good_config_prints_the_channels_and_no_key(tmp_path: Path) -> None:
    example = REPO / "config" / "bridge.example.yaml"
    run = await run_cli(
        "--config", str(example), "check", env=cli_env(**EXAMPLE_KEYS, LOG_LEVEL="DEBUG")
    )

    assert run.code == 0, run.err
    assert "3 provider accounts, 5 channels, 2 broadcasts" in run.out
    assert "pages through    db-outage" in run.out  # the db-pager preset
    for channel in ("oncall-sms", "noc-group", "customers", "oncall-wa", "india-wa"):
        assert f"\n  {channel}\n" in run.out
    assert "recipients       2: +2547••••5678, +2547••••5432" in run.out  # what oncall-sms reaches
    assert "allowed senders  sre → U012ABCDEF, usergroup:S0SRE1234" in run.out  # who may use it
    for key in EXAMPLE_KEYS.values():
        assert key not in run.out + run.err


async def test_check_on_a_bad_config_exits_1_listing_every_problem_with_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text(BAD, encoding="utf-8")
    missing = tmp_path / "nowhere.yaml"
    run, no_file = await asyncio.gather(
        run_cli("--config", str(path), "check", env=cli_env(**EXAMPLE_KEYS)),
        run_cli("check", env=cli_env(BRIDGE_CONFIG=str(missing))),
    )

    assert run.code == 1
    assert run.out == ""
    problems = run.err.strip().splitlines()
    assert [line.split(": ", 2)[:2] for line in problems] == [
        [f"{path}:3", "defaults.max_recipent"],
        [f"{path}:7", "providers.tnt.api_key"],
        [f"{path}:9", "contacts.oncall[1]"],
        [f"{path}:12", "channels.sms.provider"],
    ]
    assert "did you mean 'max_recipients'" in problems[0]
    assert "${TALKNTALK_API_KEY}" in problems[1]
    assert "unknown provider 'tnnt'" in problems[3]
    assert "literal-secret-in-the-file" not in run.err  # even a key misplaced in the file
    # A missing file is a problem too, and says how to make one.
    assert no_file.code == 1
    assert str(missing) in no_file.err
    assert "bridge.example.yaml" in no_file.err
