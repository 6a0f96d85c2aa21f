# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1:8000

.PHONY: run test install setup browser lint format messages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Another city: `make run CITY=yogyakarta` loads locations/data/cities/yogyakarta (its
# city.json) into its own SQLite file and runs the portal under that city's name.
CITY ?=
ifneq ($(CITY),)
export CITY
export SQLITE_PATH ?= db-$(CITY).sqlite3
endif

# Database, real Jakarta data (or CITY's), programs and demo data (each step is safe to repeat).
setup: install
	$(PY) manage.py compile_translations
	$(PY) manage.py migrate --noinput
ifeq ($(CITY),)
	$(PY) manage.py load_programs
	$(PY) manage.py load_jakarta
	$(PY) manage.py seed_demo --if-empty
else
	$(PY) manage.py load_city $(CITY)
endif

run: setup
	$(PY) manage.py runserver $(HOST)

# Browser tests drive Debian's Chromium, the API bench's smoke run wrk: installed when we can (root).
browser:
	@{ command -v chromium && command -v wrk; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium wrk; \
	  else echo "Browser tests and the API bench smoke run are skipped without them: sudo apt-get install chromium wrk"; fi; }

# On both cores (pytest-xdist; the bench smoke runs share one worker: --dist loadgroup).
TEST_WORKERS ?= 2
test: install browser
	$(PY) manage.py compile_translations
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
