# Planrom: `make run` serves the demo on SQLite; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export PLANROM_TEST_PG ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
export PLANROM_TEST_REDIS ?= redis://127.0.0.1:6379/0

.PHONY: run test test-fast install web node-test-deps browser check clean mutate coverage coverage-report

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web: web/node_modules/.package-lock.json
	cd web && npm run --silent build

tests/oidc/node_modules/.package-lock.json: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error

node-test-deps: tests/oidc/node_modules/.package-lock.json

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "could not install Debian's chromium"; exit 1; }; }

# The demo runs on its own SQLite file, made fresh each time (new 24-hour sign-in links).
DEMO_ENV = PLANROM_DEMO=1 PLANROM_BASE_URL=http://$(HOST):$(PORT) \
	PLANROM_DATABASE_URL=sqlite+aiosqlite:///$(CURDIR)/var/demo.sqlite3

run: install web
	mkdir -p var
	rm -f var/demo.sqlite3 var/demo.sqlite3-wal var/demo.sqlite3-shm
	$(DEMO_ENV) $(VENV)/bin/planrom migrate
	$(DEMO_ENV) $(VENV)/bin/planrom demo
	$(DEMO_ENV) $(VENV)/bin/planrom serve --host $(HOST) --port $(PORT)

# The whole suite, under branch coverage (servers started by tests measured too), on
# WORKERS parallel pytest-xdist workers; tests marked `solo` (a wall-clock limit that a
# busy neighbour or the tracer could break) run afterwards on their own, untraced. Then
# the coverage totals and floors (docs/testing.md). Every part runs even when an earlier
# one failed.
WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -p no:cacheprovider
COVERED := COVERAGE_FILE=$(CURDIR)/.coverage $(PY) -m coverage run -m pytest -q -p no:cacheprovider
test: install web node-test-deps browser
	scripts/check
	cd web && npm test --silent
	rm -f .coverage .coverage.*
	@status=0; \
	echo "$(COVERED) -n $(WORKERS) --dist loadgroup -m 'not solo'"; \
	$(COVERED) -n $(WORKERS) --dist loadgroup -m 'not solo' || status=1; \
	echo "$(PYTEST) -m solo"; \
	$(PYTEST) -m solo || [ $$? -eq 5 ] || status=1; \
	$(MAKE) --no-print-directory coverage-report || status=1; \
	exit $$status

# The inner loop: unit and integration tests without the browser, the slow, solo or
# PostgreSQL ones; parallel, no coverage (about 3 minutes on the shared two cores, load 5).
test-fast: install web node-test-deps
	$(PYTEST) -n $(WORKERS) --dist loadgroup -m 'not browser and not slow and not solo and not pg' \
	  tests/unit tests/integration tests/interop

# `make test` without the checks and the web tests (kept for habit; same coverage run).
coverage: install web node-test-deps browser
	rm -f .coverage .coverage.*
	@status=0; \
	$(COVERED) -n $(WORKERS) --dist loadgroup -m 'not solo' || status=1; \
	$(PYTEST) -m solo || [ $$? -eq 5 ] || status=1; \
	$(MAKE) --no-print-directory coverage-report || status=1; \
	exit $$status

# Branch coverage of the last `make test` (docs/testing.md): the total, then the floors.
COLLAB_FLOOR ?= 95
SERVER_FLOOR ?= 85
coverage-report:
	$(PY) -m coverage combine --quiet
	$(PY) -m coverage report --skip-covered --sort=cover
	@echo "collab/ (floor $(COLLAB_FLOOR)%):"
	$(PY) -m coverage report --include='collab/*' --format=total --fail-under=$(COLLAB_FLOOR)
	@echo "server/ (floor $(SERVER_FLOOR)%):"
	$(PY) -m coverage report --include='server/*' --format=total --fail-under=$(SERVER_FLOOR)

# Mutation testing (docs/testing.md); not part of `make test`. MUTANTS narrows the run,
# e.g. `make mutate MUTANTS='collab.policy*'`. Prints the surviving mutants.
MUTANTS ?=
mutate: install
	mkdir -p var
	PLANROM_HYPOTHESIS_EXAMPLES=$${PLANROM_HYPOTHESIS_EXAMPLES:-25} \
	  $(VENV)/bin/mutmut run --max-children $${MUTMUT_CHILDREN:-2} $(MUTANTS) > var/mutmut.log 2>&1 \
	  || { tail -c 2000 var/mutmut.log; exit 1; }
	@$(PY) scripts/mutation-summary

check: install
	scripts/check

clean:
	rm -rf $(VENV) var web/node_modules web/dist
