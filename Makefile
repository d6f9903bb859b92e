# rxportal: `make run` serves the portal with demo data; `make test` runs every test.
# Both install whatever is missing first (virtual environment, bun, browser, test servers).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := tools/node_modules/.bin

.PHONY: run test test-unit test-e2e bench install install-test clean i18n-missing

run: install
	./scripts/run.sh

test: install-test
	. scripts/env.sh && $(BIN)/python -m pytest tests/unit tests/integration -q -p no:cacheprovider
	. scripts/env.sh && $(BIN)/python -m pytest tests/e2e -q -p no:cacheprovider

test-unit: install-test
	. scripts/env.sh && $(BIN)/python -m pytest tests/unit tests/integration -q

test-e2e: install-test
	. scripts/env.sh && $(BIN)/python -m pytest tests/e2e -q

bench: install-test
	. scripts/env.sh && for b in bench/bench_*.py; do $(BIN)/python "$$b" || exit 1; done

install: $(VENV)/.run-deps $(TOOLS)/bun

install-test: install $(VENV)/.test-deps
	./scripts/install_system_packages.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.run-deps
	$(BIN)/pip install -q -e ".[test]"
	touch $@

$(TOOLS)/bun: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $@

i18n-missing:
	$(BIN)/python -m rxportal.services.i18n_extract fr

clean:
	rm -rf .web .states test-artifacts
