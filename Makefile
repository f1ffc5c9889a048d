# A newcomer's targets: run, test, lint, typecheck, bench, sim, validate, build, deploy.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run console console-screenshot test unit lint typecheck pytest test-servers bench sim openapi validate build \
	deploy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The README's first command: enrich the example leads end to end on the embedded local stack (the API
## through a local gateway, the work queue and jobs in .enrich-state/, the processor running back to back;
## the simulator when no keys are set). Run it again: the finished job is returned, nothing is paid twice.
## It ends with the operator console's address and the API key to open it with (`make console` serves it).
run: $(STAMP)
	$(BIN)/enrich run --input examples/leads.csv --output results.csv
	@echo "API key for the operator console (\`make console\`, http://127.0.0.1:8765/console):" \
		"$$(cat .enrich-state/local-api-key)"

## The operator console on the local stack and its state (.enrich-state/, what `make run` left): the page at
## http://127.0.0.1:8765/console (the port is enrich_tools.local.local_up.CONSOLE_PORT), until Ctrl-C.
console: $(STAMP)
	$(BIN)/enrich local up --port 8765

## docs/console.png, from the console's browser tests with a few jobs (not part of `make test`).
console-screenshot: $(STAMP) test-servers
	CONSOLE_SCREENSHOT=docs/console.png $(BIN)/pytest tests/console -q

## The README's second command: lint, type-check and the whole test suite.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) test-servers
	$(BIN)/pytest

## PostgreSQL and PostgREST for the Supabase tests, and Debian's Chromium for the console's browser tests,
## installed when missing (quick when present; no stamp, so a removed server is noticed). Outside CI a
## failure only warns and those tests skip, saying what to install; in CI (CI set) it stops the run, so CI
## never skips them.
test-servers:
	@bash infra/scripts/install-test-servers.sh || case "$$CI" in \
		""|0|false|no) echo "make: the Supabase tests will be skipped (see above)";; *) exit 1;; esac
	@bash infra/scripts/install-browser.sh || case "$$CI" in \
		""|0|false|no) echo "make: the console's browser tests will be skipped (see above)";; *) exit 1;; esac

bench: $(STAMP)
	$(BIN)/python -m bench.waterfall
	$(BIN)/python -m bench.runtime
	$(BIN)/python -m bench.supabase
	$(BIN)/python -m bench.local_run --leads 1000 --latency 0.1

## Regenerate docs/openapi.json from the API handler (a test fails when it drifts).
openapi: $(STAMP)
	$(BIN)/python -m enrich_tools.openapi

## The provider simulator in the foreground (Hunter at /v2, Perplexity at /v1).
sim: $(STAMP)
	$(BIN)/enrich simulator --port 8787

## cfn-lint on the SAM template, then `sam validate --lint` (no AWS account needed). The SAM CLI lives in
## .venv-sam, made on first use by infra/scripts/sam.sh (its own pins clash with the service's).
validate: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	infra/scripts/sam.sh validate --lint --template-file template.yaml

## Build the Lambda layer and functions for arm64 (python3.12 must be on PATH, or pyenv's is used).
build:
	infra/scripts/sam.sh build --template-file template.yaml

## Deploy: the first time `make deploy ARGS=--guided`; then `make deploy` (dev) or
## `make deploy ARGS="--config-env prod"`.
deploy: build
	infra/scripts/sam.sh deploy $(ARGS)

clean:
	rm -rf $(VENV) .venv-sam .pytest_cache .mypy_cache .ruff_cache .aws-sam
