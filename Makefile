# The two commands a new user needs: `make dev` (the whole stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test test-fast lint typecheck pytest bench bench-peers settings-doc screenshots vendor-ui clean

$(STAMP): pyproject.toml
	@echo "Installing FlowForge and its dependencies into $(VENV) (the first time takes a minute or two)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar off -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/flowforge dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Coverage of app/, interpreter/ and worker/ (worker processes included), each line
# tagged with the tests that ran it (`coverage html --show-contexts`); the floor is in
# pyproject.toml.
pytest: $(STAMP)
	$(BIN)/pytest --cov --cov-context=test --cov-report=term --durations=30

test: lint typecheck pytest

# The pure tests only (no Temporal, PostgreSQL or subprocess): seconds, for the edit loop.
test-fast: $(STAMP)
	$(BIN)/pytest -m fast

bench: $(STAMP)
	$(BIN)/python bench/interpreter_overhead.py

# FlowForge against hand-written Temporal, Prefect 3, DBOS and Restate (README, Speed):
# each engine is installed into its own environment under .bench/ the first time.
bench-peers: $(STAMP)
	$(BIN)/python -m bench.peers

# The README's dashboard pictures, from a real stack and Chromium (docs/screenshots/).
screenshots: $(STAMP)
	FLOWFORGE_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/browser/test_screenshots.py -q

# Refresh the dashboard's vendored browser libraries from the npm registry (pinned).
vendor-ui: $(STAMP)
	$(BIN)/python -m app.ui.vendor

# README.md's configuration table, from the settings declarations.
settings-doc: $(STAMP)
	$(BIN)/python docs/settings_table.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage .coverage.*
