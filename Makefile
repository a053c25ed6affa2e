# orga: `make run` serves the demo, `make test` runs the whole suite. Both bootstrap .venv.
VENV   ?= .venv
PY     := $(VENV)/bin/python
ORGA   := $(VENV)/bin/orga
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-sqlite test-postgres lint format bench screenshots clean i18n-extract i18n-update i18n-compile

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(ORGA) migrate
	$(ORGA) demo --if-empty
	@echo ""
	@echo "  orga is starting on http://$(HOST):$(PORT)"
	@echo "  Console: http://$(HOST):$(PORT)/app  (log in as admin@demo.orga.invalid)"
	@echo "  API docs (OpenAPI 3.1, browsable): http://$(HOST):$(PORT)/schema"
	@echo "  API login: POST /api/auth/login {\"email\": \"admin@demo.orga.invalid\", \"password\": …}"
	@echo "  (the demo passwords are printed once above when the demo is created;"
	@echo "   set a new one with: $(ORGA) user set-password admin@demo.orga.invalid)"
	@echo ""
	$(ORGA) serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite and on a throw-away PostgreSQL when its server binaries exist
# (ORGA_REQUIRE_POSTGRES=1 turns a missing server into a failure, as CI does).
# The two databases run side by side, each suite's output printed whole when it ends (much of
# a suite's time is spent waiting on the browser and the servers; both together took 17 min
# on a shared two-core machine). `make test-sqlite` or `make test-postgres` runs one.
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: $(STAMP)
	ORGA_TEST_DB=sqlite $(PY) -m pytest -q

test-postgres: $(STAMP)
	@if $(PY) -c "import sys; from core._pgserver import find_pg_bin; sys.exit(0 if find_pg_bin() else 1)"; then \
		ORGA_TEST_DB=postgres $(PY) -m pytest -q; \
	elif [ "$${ORGA_REQUIRE_POSTGRES:-0}" = "1" ]; then \
		echo "PostgreSQL server binaries not found but ORGA_REQUIRE_POSTGRES=1" >&2; exit 1; \
	else \
		echo "PostgreSQL server binaries not found: skipping the PostgreSQL run"; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) bench/summary.py

# Pictures of the console's main pages (desktop and phone) for README.md and docs/console.md:
# a fresh demo database in a temporary folder, served on a free loopback port, photographed
# in Chromium (Debian's /usr/bin/chromium) into docs/screenshots/.
screenshots: $(STAMP)
	$(PY) tools/screenshots.py

# Translations: extract marked strings, merge them into the catalogs, check/compile them.
i18n-extract: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k translate:2 -o core/locale/orga.pot --no-location --sort-output --project orga .

i18n-update: i18n-extract
	$(VENV)/bin/pybabel update -i core/locale/orga.pot -d core/locale -D orga --no-fuzzy-matching

i18n-compile: $(STAMP)
	$(VENV)/bin/pybabel compile -d core/locale -D orga --statistics

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
