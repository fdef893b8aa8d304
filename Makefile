# Two commands for a newcomer: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := tracker

.PHONY: run test test-postgres lint format bench loadtest venv clean i18n-extract i18n-compile

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

## Time the main pages, export and import against hand-written SQL (results in bench/results/).
## make bench SIZES=2000 for a quick run; BENCH_PG_URL names the PostgreSQL database.
SIZES ?= 100000 1000000
BENCH_DBS ?= sqlite postgresql
BENCH_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test_bench
BENCH_REPS ?= 20
bench: $(STAMP)
	$(BIN)/python bench/run.py --sizes "$(SIZES)" --dbs "$(BENCH_DBS)" \
		--pg-url "$(BENCH_PG_URL)" --reps $(BENCH_REPS) $(BENCH_ARGS)

## Multi-worker load test on 127.0.0.1 (gunicorn on PostgreSQL, Redis rate limits, locust).
## make loadtest LOAD_ARGS="20000 10 90"   (cases, users, seconds)
loadtest: $(STAMP)
	bash bench/loadtest.sh $(LOAD_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check tracker tests
	$(BIN)/ruff format --check tracker tests

format: $(STAMP)
	$(BIN)/ruff format tracker tests
	$(BIN)/ruff check --fix tracker tests

## Extract translatable strings into tracker/translations/messages.pot, update catalogues.
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o tracker/translations/messages.pot .
	for lang in es fr pt ar; do \
	  if [ -f tracker/translations/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations -l $$lang; \
	  else \
	    $(BIN)/pybabel init -i tracker/translations/messages.pot -d tracker/translations -l $$lang; \
	  fi; \
	done

i18n-compile: $(STAMP)
	$(BIN)/pybabel compile -d tracker/translations --use-fuzzy || true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
