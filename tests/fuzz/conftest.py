"""Print the fuzz figures (requests, 5xx, tracebacks, unexpected answers, slowest) at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz import figures

FIGURES = Path(__file__).resolve().parents[2] / "var" / "fuzz-figures.json"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not figures.KINDS:
        return
    terminalreporter.section("fuzz figures")
    for line in figures.table():
        terminalreporter.write_line(line)
    figures.save(FIGURES)
    terminalreporter.write_line(f"(also in {FIGURES.relative_to(FIGURES.parents[1])})")
