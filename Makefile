# The targets CI calls unchanged (.ci/run): `make test` is the README's test command.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: venv test lint typecheck run simulator clean

venv: $(BIN)/callback
$(BIN)/callback: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

test: venv
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check callback worker tests bench
	$(BIN)/ruff format --check callback worker tests bench

typecheck: venv
	$(BIN)/mypy

run: venv
	$(BIN)/callback run

simulator: venv
	$(BIN)/callback simulator

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache instance
