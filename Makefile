# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install migrate lint format token demo bench bench-cpu chaos clean

$(BIN)/activate:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/alembic upgrade head

## Start the service on http://127.0.0.1:8000 (docs at /docs). No DATABASE_URL: embedded PostgreSQL in .data/
run: migrate
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --no-access-log

## Run the whole test suite. No TEST_DATABASE_URL: a throwaway embedded PostgreSQL.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict app
	$(BIN)/hadolint Dockerfile

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

token: install
	@$(BIN)/python -m app.cli token --role "$${ROLE:-clinician}" --org "$${ORG:-demo}" --sub "$${SUB:-alice}"

demo: migrate
	$(BIN)/python -m app.cli seed-demo

## Load test against the raw Starlette+asyncpg ceiling (needs wrk and the local PostgreSQL).
bench: install
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## The service's CPU time per request, driven in-process (no wrk): what profiling should lower.
bench-cpu: install
	$(BIN)/python bench/cpu.py $(BENCH_ARGS)

## PostgreSQL restart under load and graceful shutdown (restarts the machine's cluster).
chaos: install
	$(BIN)/python bench/chaos.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
