# Two commands for a newcomer: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := tracker

.PHONY: run test test-sqlite test-postgres lint format bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Create the environment, migrate, load reference data and serve on SQLite (127.0.0.1:5000).
run: $(STAMP)
	$(BIN)/tracker db upgrade
	$(BIN)/tracker reference load
	$(BIN)/tracker first-run-hint
	$(BIN)/tracker run --host 127.0.0.1 --port 5000

## The whole test suite (SQLite unless TRACKER_TEST_DATABASE_URL names PostgreSQL).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	TRACKER_TEST_DATABASE_URL=$${TRACKER_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check tracker tests
	$(BIN)/ruff format --check tracker tests

format: $(STAMP)
	$(BIN)/ruff format tracker tests
	$(BIN)/ruff check --fix tracker tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
