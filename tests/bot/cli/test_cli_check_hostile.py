"""``python -m bot check`` on hostile files, in a real subprocess: exit 1, one line, no traceback;
and no secret environment variable's value printed, whichever field it was put in.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.bot.cli.test_cli_check import EXAMPLE_KEYS
from tests.bot.cli_kit import cli_env, run_cli
from tests.bot.dispatch_kit import REPO
from tests.config.test_hostile import HOSTILE

SIGNING = "slack-signing-secret-must-never-print-0105"


async def test_check_answers_every_hostile_file_with_one_line_and_exit_1(tmp_path: Path) -> None:
    paths = {}
    for name, (data, _line, _words) in HOSTILE.items():
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_bytes(data)
    runs = await asyncio.gather(
        *(run_cli("--config", str(p), "check", env=cli_env(), deadline=60) for p in paths.values())
    )
    for (name, path), run in zip(paths.items(), runs, strict=True):
        _data, line, words = HOSTILE[name]
        assert run.code == 1, (name, run.err)
        assert run.out == ""
        assert "Traceback" not in run.err, (name, run.err)
        (problem,) = run.err.strip().splitlines()
        where = f"{path}:{line}: " if line is not None else f"{path}"
        assert problem.startswith(where), (name, problem)
        for word in words:
            assert word in problem, (name, problem)


async def test_check_never_prints_a_secret_placed_in_a_non_secret_field(tmp_path: Path) -> None:
    example = (REPO / "config" / "bridge.example.yaml").read_text(encoding="utf-8")
    text = example.replace("sender_id: ACME", "sender_id: ${TALKNTALK_API_KEY}").replace(
        "title: On-call broadcast", "title: ${SLACK_SIGNING_SECRET}"
    )
    assert text.count("${TALKNTALK_API_KEY}") == 2
    assert "${SLACK_SIGNING_SECRET}" in text
    path = tmp_path / "bridge.yaml"
    path.write_text(text, encoding="utf-8")
    run = await run_cli(
        "--config", str(path), "check", env=cli_env(**EXAMPLE_KEYS, SLACK_SIGNING_SECRET=SIGNING)
    )
    assert run.code == 1, run.out
    for secret in (*EXAMPLE_KEYS.values(), SIGNING):
        assert secret not in run.out + run.err
    problems = run.err.strip().splitlines()
    assert len(problems) == 2, problems
    assert ".sender_id: ${TALKNTALK_API_KEY} is a secret" in problems[0]
    assert ".title: ${SLACK_SIGNING_SECRET} is a secret" in problems[1]
    assert all("secret" in p for p in problems)
