# The two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app enrollment

.PHONY: run worker test lint install clean bench

$(STAMP): setup.cfg pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,prod]'
	touch $(STAMP)

install: $(STAMP)

instance/config.py:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@

# `make run PORT=8000` serves on another port.
PORT ?= 5000

run: $(STAMP) instance/config.py
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) run --debug --host 127.0.0.1 --port $(PORT)

# Beside `make run`, in a second terminal: the job queue (mail, offer expiry, reserved seats),
# in instance/jobs.sqlite3 unless REDIS_URL is set.
worker: $(STAMP) instance/config.py
	$(FLASK) worker

# The whole suite on SQLite, then again on PostgreSQL (a throwaway database; skipped with the
# reason when the server is unreachable, required under CI=true).
# WORKERS parallel pytest processes (pytest-xdist); WORKERS=0 runs in one process.
WORKERS ?= 2

test: $(STAMP)
	$(BIN)/ruff check enrollment tests benchmarks
	$(BIN)/python -m pytest -n $(WORKERS) $(PYTEST_ARGS)
	$(BIN)/python -m pytest -n $(WORKERS) --backend=postgresql $(PYTEST_ARGS)

# Every benchmark beside its floor (needs wrk and PostgreSQL); writes docs/benchmarks.md.
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check enrollment tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
