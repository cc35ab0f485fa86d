"""``python -m config.jsonschema``: only a plain run writes the schema; ``--help`` only prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.jsonschema import main, render


def test_help_prints_usage_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "bridge.schema.json"
    with pytest.raises(SystemExit) as exit_:
        main(["--help"], target)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: python -m config.jsonschema" in out
    assert "--check" in out
    assert not target.exists()


def test_a_mistyped_option_is_refused_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "bridge.schema.json"
    with pytest.raises(SystemExit) as exit_:
        main(["--chek"], target)
    assert exit_.value.code == 2
    assert "unrecognized arguments: --chek" in capsys.readouterr().err
    assert not target.exists()


def test_a_plain_run_writes_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "bridge.schema.json"
    assert main([], target) == 0
    assert target.read_text(encoding="utf-8") == render()


def test_check_writes_nothing_and_says_when_the_file_is_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "bridge.schema.json"
    target.write_text("{}\n", encoding="utf-8")
    assert main(["--check"], target) == 1
    assert "out of date: run python -m config.jsonschema" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "{}\n"
    target.write_text(render(), encoding="utf-8")
    assert main(["--check"], target) == 0
