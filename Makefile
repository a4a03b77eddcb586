# Two commands: `make run` serves the embedded default, `make test` runs the whole suite.
# Both build .venv from requirements.lock first (hash-checked, exact pins).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)

# This machine kind runs PostgreSQL and Redis; the suite uses both unless told otherwise.
SOLO_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
SOLO_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export SOLO_TEST_POSTGRES_URL SOLO_TEST_REDIS_URL

.PHONY: run test lint lock bench

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	@echo "Solo on http://127.0.0.1:$(PORT)/api/v1/solo  (Swagger UI: /api/v1/solo/ui/)"
	@echo "Get a token:  $(BIN)/solo token <user-id>"
	$(BIN)/solo serve --host 127.0.0.1 --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check solo tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check solo tests bench
	$(BIN)/ruff format --check solo tests bench

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

bench: $(STAMP)
	$(BIN)/python -m bench.load
