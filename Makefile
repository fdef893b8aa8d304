# Two commands for a newcomer: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := tracker

.PHONY: run test test-postgres lint format bench loadtest venv clean i18n-extract i18n-compile pdf-deps

venv: $(STAMP)

## PDF reports (WeasyPrint) need Pango and a font from the system, as .ci/run installs them.
## Installed with apt-get when this machine has it and we may (root, or password-less sudo);
## otherwise stop with what to install. SKIP_PDF_CHECK=1 serves without PDF reports.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
PDF_CHECK ?= $(BIN)/python -c "import weasyprint" && { ! command -v dpkg >/dev/null 2>&1 || dpkg -s fonts-dejavu-core >/dev/null 2>&1; }
APT_GET ?= apt-get
pdf-deps: $(STAMP)
	@if [ -n "$(SKIP_PDF_CHECK)" ] || ( $(PDF_CHECK) ) >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true >/dev/null 2>&1; then sudo=sudo; else sudo=no; fi; \
	if [ "$$sudo" != no ] && command -v $(APT_GET) >/dev/null 2>&1; then \
	  echo "== installing the system packages for PDF reports: $(PDF_PACKAGES)"; \
	  $$sudo $(APT_GET) update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$sudo $(APT_GET) install -y -qq --no-install-recommends $(PDF_PACKAGES); \
	fi; \
	if ! ( $(PDF_CHECK) ) >/dev/null 2>&1; then \
	  echo "PDF reports need Pango and the DejaVu fonts, which this machine lacks." >&2; \
	  echo "  Debian/Ubuntu: sudo apt-get install $(PDF_PACKAGES)" >&2; \
	  echo "  elsewhere: Pango 1.44 or newer and a TrueType font (WeasyPrint's install notes)" >&2; \
	  echo "  or serve without PDF reports: make run SKIP_PDF_CHECK=1" >&2; \
	  exit 1; \
	fi

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Create the environment, migrate, load reference data and serve on SQLite (127.0.0.1:5000).
run: $(STAMP) pdf-deps
	$(BIN)/tracker db upgrade
	$(BIN)/tracker reference load
	$(BIN)/tracker first-run-hint
	$(BIN)/tracker run --host 127.0.0.1 --port 5000

## The whole test suite (SQLite unless TRACKER_TEST_DATABASE_URL names PostgreSQL).
test: $(STAMP) pdf-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP) pdf-deps
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
