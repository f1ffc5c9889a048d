# A newcomer's targets: run, test, lint, typecheck, bench, sim, validate, build, deploy.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test unit lint typecheck pytest bench sim validate build deploy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The README's first command: enrich the example leads on the embedded default (simulator when no keys).
run: $(STAMP)
	$(BIN)/enrich demo --csv examples/leads.csv

## The README's second command: lint, type-check and the whole test suite.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.waterfall

## The provider simulator in the foreground (Hunter at /v2, Perplexity at /v1).
sim: $(STAMP)
	$(BIN)/enrich simulator --port 8787

validate build deploy:
	@echo "'make $@' arrives with the serverless runtime (template.yaml is a skeleton until then)"; exit 1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
