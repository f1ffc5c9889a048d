# A newcomer's targets: run, test, lint, typecheck, bench, sim, validate, build, deploy.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test unit lint typecheck pytest test-servers bench sim openapi validate build deploy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The README's first command: enrich the example leads end to end on the embedded local stack (the API
## through a local gateway, the work queue and jobs in .enrich-state/, the processor running back to back;
## the simulator when no keys are set). Run it again: the finished job is returned, nothing is paid twice.
run: $(STAMP)
	$(BIN)/enrich run --input examples/leads.csv --output results.csv

## The README's second command: lint, type-check and the whole test suite.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) test-servers
	$(BIN)/pytest

## PostgreSQL and PostgREST for the Supabase tests, installed when missing (quick when present; no stamp,
## so a removed server is noticed). Outside CI a failure only warns and those tests skip, saying what to
## install; in CI (CI set) it stops the run, so CI never skips them.
test-servers:
	@bash infra/scripts/install-test-servers.sh || case "$$CI" in \
		""|0|false|no) echo "make: the Supabase tests will be skipped (see above)";; *) exit 1;; esac

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
