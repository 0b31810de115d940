# airflow-phrase: every target sets up what it needs (a .venv from the pinned constraints.txt).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed
LINT_PATHS := $(wildcard airflow_phrase tests dags benchmarks)

.PHONY: help install test lint pytest pytest-live-quirks demo ui emulator bench lock clean

help:
	@echo "make demo     - run the scheduled ingestion DAG against the embedded Phrase TMS emulator"
	@echo "make test     - lint, type-check and run the whole test suite (unit, emulator, dag.test, end-to-end),"
	@echo "                then the emulator-facing suites again against the emulator's live-quirks mode"
	@echo "make ui       - the Airflow UI (127.0.0.1:8080) with the example DAGs, next to the emulator (:8081)"
	@echo "make emulator - start the Phrase TMS emulator on 127.0.0.1:8080 (admin API on)"
	@echo "make bench    - run the benchmarks (figures are printed, never asserted)"
	@echo "make lock     - re-resolve constraints.txt after changing dependencies"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip install -q -p $(BIN)/python -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy airflow_phrase

# The suites that talk to the emulator run a second time with the emulator in its live-quirks mode (the
# off-spec shapes Phrase's backend is known to send); the real-Airflow e2e suites run once.
LIVE_QUIRKS_SUITES := tests/hooks tests/operators tests/triggers tests/sensors tests/dags

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

pytest-live-quirks: $(STAMP)
	$(BIN)/pytest --phrase-emulator-live-quirks -m "not e2e" $(LIVE_QUIRKS_SUITES) $(PYTEST_ARGS)

test: lint pytest pytest-live-quirks

demo: $(STAMP)
	$(BIN)/python -m airflow_phrase.demo $(DEMO_ARGS)

ui: $(STAMP)
	$(BIN)/python -m airflow_phrase.demo.ui $(UI_ARGS)

emulator: $(STAMP)
	$(BIN)/python -m airflow_phrase.emulator --host 127.0.0.1 --port 8080 --enable-admin

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --extra dev -p $(BIN)/python -o constraints.txt --no-header --quiet

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
