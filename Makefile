# The README's two commands: `make run` (set up, start server + local agent) and
# `make test` (set up, run every test). Everything installs from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
LISTEN ?= 127.0.0.1:8080
STAMP := $(VENV)/.installed

.PHONY: run test setup setup-test services lint bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[server,dev]'
	touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python -m sabamon.server.web.assets

run: setup
	$(BIN)/sabamon up --data $(DATA) --listen $(LISTEN)

setup-test: setup
	scripts/test-deps.sh

services:
	scripts/services.sh

# The tests wait on processes, peers and deadlines more than they compute: four pytest-xdist
# workers share two cores, each test file on one worker (its module fixtures start once).
# The tests marked `alone` measure latency or race a fast server clock, so they run afterwards
# with nothing beside them.
TEST_WORKERS ?= 4
test: setup-test services
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile -m "not alone"
	$(BIN)/pytest -q -p no:cacheprovider -m alone

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# The quick benchmarks; bench/fleet.py, bench/alerts.py, bench/dashboard.py,
# bench/storage.py and bench/agent_footprint.py take minutes and are run on their own.
bench: setup services
	$(BIN)/python bench/ring.py
	$(BIN)/python bench/collectors.py
	$(BIN)/python bench/plugins.py
	$(BIN)/python bench/agent_spool.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/graph_png.py

# Every dashboard page at 1440x900 and 390x844, into screenshots/ (not committed).
screenshots: setup-test
	PYTHONPATH=. $(BIN)/python scripts/screenshots.py --out screenshots

clean:
	rm -rf $(VENV) build *.egg-info
