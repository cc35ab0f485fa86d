"""Shared set-up for the command-line tests: ``python -m bot`` in a real subprocess, and a config
whose accounts point at the emulators started in the test's own event loop.

No tests live here (a kit, like the other ``*_kit.py``). Every run is checked for the API keys
on stdout and stderr (``run_cli``).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bridge_sandbox.emulators.common import EmulatorState, RecordedRequest
from bridge_sandbox.emulators.suite import EmulatorSuite
from bridge_sandbox.emulators.talkntalk import DEFAULT_SESSION

from tests.bot.dispatch_kit import (
    AK_KEY,
    GROUP,
    KAL_FROM,
    KAL_KEY,
    KAL_SID,
    KEYS,
    REPO,
    TNT_KEY,
    emulators,
)

__all__ = ["emulators"]

# --- the command line, in a real subprocess --------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    seconds: float

    @property
    def outcome_lines(self) -> list[str]:
        """The per-recipient lines: they start with the status mark."""
        marks = ("sent ", "FAILED ", "UNKNOWN ")
        return [line for line in self.out.splitlines() if line.startswith(marks)]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: dummy keys for the emulators, nothing of the caller's."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TNT_KEY": TNT_KEY,
        "AK_KEY": AK_KEY,
        "KAL_KEY": KAL_KEY,
        # Each run records its sends in a store of its own, never in the repo's var/.
        "BRIDGE_DB": os.path.join(tempfile.mkdtemp(prefix="bridge-cli-"), "bridge.db"),
    }
    env.update(extra)
    return env


async def run_cli(*args: str, env: Mapping[str, str] | None = None, deadline: float = 15) -> Run:
    """``python -m bot ARGS`` without blocking the loop the emulators run on."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=REPO,
        env=dict(cli_env() if env is None else env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(deadline):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    run = Run(proc.returncode or 0, out.decode(), err.decode(), time.monotonic() - started)
    for key in KEYS:
        assert key not in run.out, "an API key was printed on stdout"
        assert key not in run.err, "an API key was printed on stderr"
    return run


CONFIG = """\
defaults:
  country: KE
providers:
  tnt:
    type: talkntalk
    api_key: ${{TNT_KEY}}
    base_url: {talkntalk}
    timeout_seconds: 2
    rate_per_minute: 600000
  ak:
    type: autokonnect
    api_key: ${{AK_KEY}}
    base_url: {autokonnect}
    timeout_seconds: 2
  kal:
    type: kaleyra
    api_key: ${{KAL_KEY}}
    sid: {sid}
    base_url: {kaleyra}
    timeout_seconds: 2
senders:
  sre: [U0SRE0001]
channels:
  sms:
    provider: tnt
    service: sms
    sender_id: TALKNTALK
    to: ["+254712345678"]
    allowed_senders: [sre]
  team-sms:
    provider: tnt
    service: sms
    sender_id: TALKNTALK
    to: ["+254700000001", "+254700000002", "+254700000003"]
    allowed_senders: [sre]
  wa:
    provider: tnt
    service: whatsapp
    session_id: {session}
    to: ["+254712345678"]
    allowed_senders: [sre]
  group:
    provider: tnt
    service: whatsapp_group
    session_id: {session}
    to: ["{group}"]
    allowed_senders: [sre]
  waba:
    provider: ak
    service: waba
    waba_id: "123"
    to: ["tag:42"]
    allowed_senders: [sre]
    allow_adhoc: true
  india-wa:
    provider: kal
    service: whatsapp
    from: "{kal_from}"
    allowed_senders: [sre]
    allow_adhoc: true
"""

TNT_WA_PATH = f"/v1/whatsapp/{DEFAULT_SESSION}/send/"
TNT_GROUP_PATH = f"/v1/whatsapp/{DEFAULT_SESSION}/groups/send/"
AK_PATH = "/api/v1/whatsapp/123/messages"


@pytest.fixture
def bridge_yaml(tmp_path: Path, emulators: EmulatorSuite) -> Path:
    path = tmp_path / "bridge.yaml"
    path.write_text(
        CONFIG.format(
            talkntalk=emulators.url("talkntalk"),
            autokonnect=emulators.url("autokonnect"),
            kaleyra=emulators.url("kaleyra"),
            sid=KAL_SID,
            session=DEFAULT_SESSION,
            group=GROUP,
            kal_from=KAL_FROM,
        ),
        encoding="utf-8",
    )
    return path


async def send(config: Path, *args: str) -> Run:
    """One ``send`` with the config from $BRIDGE_CONFIG and the dummy keys in the environment."""
    env = cli_env(BRIDGE_CONFIG=str(config), LOG_LEVEL="DEBUG")
    return await run_cli("send", *args, env=env)


async def send_all(config: Path, *runs: Sequence[str]) -> list[Run]:
    return list(await asyncio.gather(*(send(config, *args) for args in runs)))


def only(state: EmulatorState, path: str, **match: Any) -> RecordedRequest:
    """The one request to ``path`` whose body has these values."""
    found = [
        r
        for r in state.requests
        if r.path == path and all(r.body.get(k) == v for k, v in match.items())
    ]
    assert len(found) == 1, [r.body for r in state.requests]
    return found[0]


def assert_all_sent(run: Run, count: int = 1) -> None:
    assert run.code == 0, run.out + run.err
    assert len(run.outcome_lines) == count, run.out
    assert all(line.startswith("sent ") for line in run.outcome_lines)
    assert re.search(rf"^{count} sent, 0 failed, 0 unknown — request R\w{{8}}$", run.out, re.M)
