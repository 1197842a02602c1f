# caredesk: `make run` serves a demo instance, `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-all lint format bench screenshots clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

run: install
	$(BIN)/caredesk setup
	$(BIN)/caredesk serve

test: install
	$(BIN)/pytest

# Starts PostgreSQL and Redis when they are not running, then runs every suite on both databases.
test-all: install
	bash .ci/run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy caredesk

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/run.py

# PNGs of the main pages in docs/screenshots/ (demo data, Debian's Chromium, as the e2e tests).
screenshots: install
	$(BIN)/python tests/e2e/screenshots.py

clean:
	rm -rf $(VENV) var build *.egg-info
