# The README's two commands spelled as targets; .ci/run calls the same test command.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench fuzz
install: $(BIN)/python
$(BIN)/python: pyproject.toml
	$(PY) -m venv $(VENV) && $(BIN)/pip install -q -e '.[dev]' -e ./sandbox && touch $(BIN)/python

demo: install
	$(BIN)/python -m bot demo

test: install
	$(BIN)/python -m pytest

# The fuzz suite run long (the normal run uses 40 examples a test); prints the figures table.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} $(BIN)/python -m pytest tests/fuzz -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: install
	$(BIN)/python bench/dispatch.py && $(BIN)/python bench/ack.py && $(BIN)/python bench/faults.py
