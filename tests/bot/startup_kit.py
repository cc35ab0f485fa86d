"""``python -m bot`` as an operator starts it: a real subprocess in a directory of the test's
own, its exit code and everything it printed (stdout and stderr together)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.bot.cli_kit import cli_env

SIGNING = "startup-signing-secret-0123456789abcdef"  # 38 bytes: strong enough to sign links
SLACK = {"SLACK_BOT_TOKEN": "xoxb-startup", "SLACK_SIGNING_SECRET": SIGNING, "PORT": "0"}


async def bridge(cwd: Path, *args: str, deadline: float = 30, **env: str) -> tuple[int, str]:
    """``python -m bot ARGS`` in ``cwd`` with ``cli_env(**env)``: exit code and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=cli_env(**env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(deadline):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode()


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error: ")]
