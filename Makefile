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

## The README's first command: enrich the example leads end to end on the embedded local stack (moto, the
## API through a local gateway, SQS, the processor ticking every second; the simulator when no keys are set).
run: $(STAMP)
	$(BIN)/enrich run --input examples/leads.csv --output results.jsonl --tick 1

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

## Regenerate docs/openapi.json from the API handler (a test fails when it drifts).
openapi: $(STAMP)
	$(BIN)/python -m enrich_tools.openapi

## The provider simulator in the foreground (Hunter at /v2, Perplexity at /v1).
sim: $(STAMP)
	$(BIN)/enrich simulator --port 8787

## cfn-lint on the SAM template (SAM schemas, no AWS account needed); `sam validate --lint` runs too when
## the SAM CLI is on PATH (it is not a project dependency).
validate: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	@if command -v sam >/dev/null 2>&1; then sam validate --lint --template-file template.yaml; \
	else echo "sam CLI not on PATH: skipped 'sam validate --lint'"; fi

build deploy:
	@echo "'make $@' arrives with the serverless runtime (template.yaml is a skeleton until then)"; exit 1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
