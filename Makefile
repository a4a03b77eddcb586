# Two commands: `make run` serves the embedded default and the example editor page; `make test`
# runs the whole suite (ruff, mypy strict on solo/, the dependency contract, the spec's lint,
# pytest on both cores). Both build .venv from requirements.lock first (hash-checked, exact
# pins); `make test` also installs the pinned node tools of clients/package-lock.json (spec
# lint, TypeScript client, browser driver) and the autosave client's of
# clients/autosave/package-lock.json with `npm ci` (pytest builds that client and runs its Node
# tests and its Chromium scenarios); `make run` builds that client for the example page.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
EXAMPLE_PORT ?= 8001
EXAMPLE_ORIGIN := http://127.0.0.1:$(EXAMPLE_PORT)
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
NODE_MODULES := clients/node_modules
NODE_STAMP := $(NODE_MODULES)/.installed-$(shell cat clients/package-lock.json | sha256sum | cut -c1-16)
AUTOSAVE_MODULES := clients/autosave/node_modules
AUTOSAVE_STAMP := $(AUTOSAVE_MODULES)/.installed-$(shell cat clients/autosave/package-lock.json | sha256sum | cut -c1-16)
AUTOSAVE_BUNDLE := clients/autosave/dist/solo-autosave.bundle.js
AUTOSAVE_SOURCES := $(wildcard clients/autosave/src/*.ts) openapi/solo.yaml
CHROMIUM := /usr/bin/chromium

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

$(NODE_STAMP):
	cd clients && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(AUTOSAVE_STAMP):
	cd clients/autosave && npm ci --no-audit --no-fund --loglevel=error
	touch $(AUTOSAVE_STAMP)

$(AUTOSAVE_BUNDLE): $(AUTOSAVE_STAMP) $(AUTOSAVE_SOURCES)
	cd clients/autosave && npm run --silent build

# The API, and the example editor on an origin of its own (the way a front end meets it),
# which the development server's CORS lets in. Both stop with Ctrl-C.
run: $(STAMP) $(AUTOSAVE_BUNDLE)
	@token=$$($(BIN)/solo token example-user --ttl 604800) && \
	echo "Solo on http://127.0.0.1:$(PORT)/api/v1/solo  (Swagger UI: /api/v1/solo/ui/)" && \
	echo "Example editor (open it in two tabs):" && \
	echo "  $(EXAMPLE_ORIGIN)/example/#api=http://127.0.0.1:$(PORT)/api/v1/solo&token=$$token" && \
	echo "Another token:  $(BIN)/solo token <user-id>"
	@$(BIN)/python -m http.server --bind 127.0.0.1 --directory clients/autosave $(EXAMPLE_PORT) \
		>/dev/null 2>&1 & page=$$!; trap 'kill $$page' EXIT INT TERM; \
	SOLO_CORS_ORIGINS="$${SOLO_CORS_ORIGINS:-$(EXAMPLE_ORIGIN)}" \
		$(BIN)/solo serve --host 127.0.0.1 --port $(PORT)

test: $(STAMP) $(NODE_STAMP) $(AUTOSAVE_STAMP)
	$(BIN)/ruff check solo tests bench
	$(BIN)/mypy
	$(BIN)/mypy tests/support/fakes.py
	$(BIN)/lint-imports
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
		$(NODE_MODULES)/.bin/redocly lint --format=stylish
	@test -x $(CHROMIUM) || echo "\n*** $(CHROMIUM) is missing: THE BROWSER TESTS WILL NOT RUN" \
		"(apt-get install -y chromium) ***\n"
	$(BIN)/python -m pytest -n 2 --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check solo tests bench
	$(BIN)/ruff format --check solo tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

bench: $(STAMP)
	$(BIN)/python -m bench.load
