# Saldo — the two commands a new user needs are `make run` and `make test`.
# Everything is installed into .venv from PyPI, pinned by requirements/lock.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.DEFAULT_GOAL := help
.PHONY: help run test lint bench lock clean browser-tools

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

# The browser tests' tools (tests/browser): Debian's Chromium and its chromedriver, installed
# with apt-get when missing (CI runs as root on a fresh machine; no browser is downloaded
# any other way), and axe-core from the npm registry, pinned by tests/browser/package-lock.json.
# Missing tools make the browser tests skip on a laptop and fail with CI=true.
browser-tools:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	  else echo "chromium/chromium-driver missing: sudo apt-get install -y chromium chromium-driver"; fi; \
	fi
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/browser --no-audit --no-fund --silent; \
	else echo "npm missing (Node.js): the browser tests' accessibility check needs it"; fi

# The suite runs in parallel, one embedded PostgreSQL per worker (TEST_WORKERS=1 for one).
TEST_WORKERS ?= auto

test: lint browser-tools
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# Deployment checks' tools in a venv of their own (checkov pins what Saldo's lock pins too).
TOOLS := .venv-tools
$(TOOLS)/.installed: requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip --disable-pip-version-check -q install -r requirements/tools.txt
	@touch $@

test: $(TOOLS)/.installed

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/eventstore.py
	$(BIN)/python bench/posting.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/payroll.py
	$(BIN)/python bench/billing.py

lock: $(VENV)/.installed-dev
	{ head -n 2 $(LOCK); $(BIN)/pip freeze --exclude-editable | grep -v '^saldo=='; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
