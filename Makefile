# The two commands of the README: `make run` and `make test`. Everything installs from this repo.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck bench demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gongjian serve --demo-if-empty

# One worker per core (pytest-xdist): every test has its own PostgreSQL schema or SQLite file, the
# fault tests stop servers of their own (never the shared ones), and a file's tests stay on one
# worker for its module fixtures. The tests' scratch (SQLite stores, keys, packages) lives on tmpfs
# where there is one: they test behaviour, not fsync. Files go out in the order tests/conftest.py
# gives (`--no-loadscope-reorder`): the few long ones first, so that the workers finish together.
TEST_WORKERS ?= auto
TEST_TMPDIR ?= $(if $(wildcard /dev/shm/.),/dev/shm,$(or $(TMPDIR),/tmp))
test: $(STAMP)
	TMPDIR=$(TEST_TMPDIR) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

demo: $(STAMP)
	$(BIN)/gongjian demo

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
