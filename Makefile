# Liveboard — the two commands a newcomer needs:
#   make run    install, migrate, load demo data, serve on http://127.0.0.1:8000
#   make test   install and run the test suite (SQLite + in-memory layer)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Service URLs for the scaled mode (used by test-services).
PG_URL    ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL_LOCAL ?= redis://127.0.0.1:6379/0

.PHONY: run test test-services install migrate demo serve serve-cluster clean
.PHONY: bench bench-smoke bench-idle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py demo

serve:
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

run: demo serve

# Scaled mode on one machine: PROCESSES daphne processes sharing one socket,
# rooms and presence through Redis (REDIS_URL, default the local server).
PROCESSES ?= 2
serve-cluster: export REDIS_URL ?= $(REDIS_URL_LOCAL)
serve-cluster: demo
	$(BIN)/python deploy/cluster.py --processes $(PROCESSES) --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite against PostgreSQL and Redis (what CI runs as well).
test-services: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL_LOCAL) $(BIN)/python -m pytest $(PYTEST_ARGS)

# Fan-out benchmark (BENCHMARKS.md): starts its own servers — Liveboard embedded
# and 2 processes + Redis, and the python-socketio peer — on fresh databases.
# BENCH_ARGS="--runs 1 --viewers 500" etc.; `.venv/bin/python bench/run.py --help`.
bench: install
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A few seconds, small N: runs the whole bench path and fails on any lost frame
# (no timing is asserted). tests/test_bench_smoke.py runs it in the suite.
bench-smoke: install
	$(BIN)/python bench/run.py smoke $(BENCH_ARGS)

# 10,000 idle sockets on one Liveboard process: RSS per socket.
bench-idle: install
	$(BIN)/python bench/run.py idle $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .pytest_cache
