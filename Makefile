# rxportal: `make run` serves the portal with demo data; `make test` runs every test.
# Both install whatever is missing first (virtual environment, bun, browser, test servers).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := tools/node_modules/.bin

.PHONY: run run-scaled test test-unit test-e2e bench install install-test clean i18n-missing

run: install
	./scripts/run.sh

# The scaled-out mode against the PostgreSQL and Redis on 127.0.0.1 (several backend workers).
run-scaled: install
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='rxportal'" | grep -q 1 || \
		psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE rxportal"
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/rxportal} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} ./scripts/run.sh

test: install-test
	. scripts/env.sh && $(BIN)/python -m pytest tests/unit tests/integration -q -p no:cacheprovider
	. scripts/env.sh && $(BIN)/python -m pytest tests/e2e -q -p no:cacheprovider
	. scripts/env.sh && RXPORTAL_E2E_MODE=scaled RXPORTAL_E2E_PROXY=nginx $(BIN)/python -m pytest tests/e2e -q -p no:cacheprovider -m "journey or failure"

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
	$(BIN)/pip install -q -e . $(QUIET_PIP)
	touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.run-deps
	$(BIN)/pip install -q -e ".[test]" $(QUIET_PIP)
	touch $@

$(TOOLS)/bun: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $@

i18n-missing:
	$(BIN)/python -m rxportal.services.i18n_extract fr

clean:
	rm -rf .web .states test-artifacts
