# Saldo — the two commands a new user needs are `make run` and `make test`.
# Everything is installed into .venv from PyPI, pinned by requirements/lock.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.DEFAULT_GOAL := help
.PHONY: help run test lint bench lock clean

help:
	@echo "make run    install Saldo into .venv and start it on the embedded PostgreSQL"
	@echo "make test   install the dev tools and run ruff, mypy, import-linter and pytest"
	@echo "make lint   ruff, mypy and import-linter only"
	@echo "make bench  run the benchmarks (bench/), printing ratios against raw references"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Stamps: reinstall only when the project's dependencies change.
$(VENV)/.installed-run: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) install -c $(LOCK) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(PIP) install -c $(LOCK) -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/saldo serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports

# The suite runs in parallel, one embedded PostgreSQL per worker (TEST_WORKERS=1 for one).
TEST_WORKERS ?= auto

test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/eventstore.py
	$(BIN)/python bench/posting.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/payroll.py

lock: $(VENV)/.installed-dev
	{ head -n 2 $(LOCK); $(BIN)/pip freeze --exclude-editable | grep -v '^saldo=='; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
