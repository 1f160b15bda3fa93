# Everyday commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/onebacklog
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PORT ?= 8000
# `make test` spreads the suite over this many processes (pytest-xdist; each has its own test database).
# `make test-postgres` stays on one: its real Celery worker and Redis database are shared by the whole run.
TEST_PROCESSES ?= 2
# Schemathesis cases per API operation and its phases: a quick pass on SQLite (no coverage phase,
# whose boundary and negative cases are two thirds of the fuzz test's time), the full one on
# PostgreSQL (CI runs both).
FUZZ_EXAMPLES ?= 3
FUZZ_EXAMPLES_POSTGRES ?= 25
FUZZ_PHASES ?= examples,fuzzing
FUZZ_PHASES_POSTGRES ?= examples,coverage,fuzzing
# Product sizes of `make bench-scale` (ordered items, comma-separated, ascending).
SIZES ?= 1000,10000,100000,1000000

.PHONY: install run test test-postgres lint format bench-ordering bench-api bench-scoring bench-pages bench-sprints bench-intake bench-notifications bench-integrations bench-integrations-io bench-integrations-webhooks bench-integrations-bulk bench-search bench-scale screenshots clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install  ## the app on the embedded default: SQLite, in-process jobs and schedule, demo data (PORT=8000)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_service_demo
	@echo "Sign in at http://127.0.0.1:$(PORT)/ with one of the logins above."
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Both test commands keep compiled modules (__pycache__, git-ignored) even where the environment
# says not to write them (PYTHONDONTWRITEBYTECODE): every test process and every server the tests
# start would otherwise compile the project again, a few seconds each.
test: install  ## the whole test suite (SQLite unless DATABASE_URL is set), on two processes (TEST_PROCESSES=2)
	PYTHONDONTWRITEBYTECODE= FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_PHASES=$(FUZZ_PHASES) $(PY) -m pytest -n $(TEST_PROCESSES)

test-postgres: install  ## the suite on the local PostgreSQL and Redis, their tests required
	PYTHONDONTWRITEBYTECODE= DATABASE_URL=$(PG_URL) REQUIRE_POSTGRES=1 TEST_REDIS_URL=$(REDIS_TEST_URL) REQUIRE_REDIS=1 FUZZ_EXAMPLES=$(FUZZ_EXAMPLES_POSTGRES) FUZZ_PHASES=$(FUZZ_PHASES_POSTGRES) $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-ordering: install  ## ordering benchmark on PostgreSQL, prints JSON
	DATABASE_URL=$(PG_URL) $(PY) bench/ordering.py

bench-scoring: install  ## scoring benchmark on PostgreSQL and Redis, prints JSON
	$(PY) bench/scoring.py

bench-api: install  ## API benchmark on PostgreSQL behind gunicorn, prints JSON
	$(PY) bench/api.py

bench-pages: install  ## backlog page against the API's first page, 100,000 items on PostgreSQL, prints JSON
	$(PY) bench/pages.py

bench-suggestion: install  ## the suggested order's refresh job and requests, 100,000 items on PostgreSQL, prints JSON
	$(PY) bench/suggestion.py

bench-sprints: install  ## sprint planning and the forecast at 10,000 and 100,000 items on PostgreSQL, prints JSON
	$(PY) bench/sprints.py

bench-search: install  ## full-text search against an ILIKE scan, 100,000 items with comments on PostgreSQL, prints JSON
	$(PY) bench/search.py

bench-intake: install  ## intake surge (8 senders, 5,000 tickets, 50 fingerprints) on gunicorn + PostgreSQL, queue page; JSON
	$(PY) bench/intake.py

bench-integrations: install  ## issue 15's benchmarks (import/export, bulk edit, webhooks), each in its own process; JSON
	$(PY) bench/integrations.py

bench-integrations-io: install  ## CSV import of 1,000 and 10,000 rows, export of 10,000 and 100,000 items on PostgreSQL; JSON
	$(PY) bench/integrations_io.py

bench-notifications: install  ## a comment mentioning 10 on an item with 1,000 watchers: request vs none, the job's queries and time; JSON
	$(PY) bench/notifications.py

bench-integrations-webhooks: install  ## 1,000 webhook deliveries, a receiver failing every tenth first attempt, 2 workers, Redis + PostgreSQL; JSON
	$(PY) bench/integrations_webhooks.py

bench-integrations-bulk: install  ## bulk edit of 500 items (labels, values, archive) on PostgreSQL, against single requests; JSON
	$(PY) bench/integrations_bulk.py

bench-scale: install  ## issue 17's table at 1k/10k/100k/1M ordered items on PostgreSQL (SIZES=1000,10000 for fewer); JSON
	$(PY) bench/scale.py --sizes $(SIZES)

screenshots: install  ## refresh the README's screenshots (demo data, Debian's Chromium)
	$(PY) bench/screenshots.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .pytest_cache .ruff_cache .test-databases
