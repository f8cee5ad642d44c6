# Every everyday job is one target; each installs what it needs first.
# The project venv (.venv) holds the code and its test tools; sam-cli pins its own
# boto3, so it lives in a separate venv (.venv-sam) and never shares packages with the code.

SHELL := /bin/bash
PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
CFN_LINT_VERSION := 1.58.0
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: help install demo test lint typecheck validate bench build deploy clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3.13 not found (set PYTHON=/path/to/python3.13)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(SAM_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION) cfn-lint==$(CFN_LINT_VERSION)
	touch $@

# checkov pins a boto3 that conflicts with sam-cli's: a third venv of its own.
$(CHECKOV_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

install: $(BIN)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed  ## create the three venvs

demo: $(BIN)/.installed  ## run the whole pipeline locally against moto and write build/demo/outbox.html
	$(BIN)/python -m infra.demo

test: $(BIN)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed  ## lint, type-check, check the template (sam, cfn-lint, checkov) and run every test
	$(BIN)/ruff check functions infra tests bench
	$(BIN)/ruff format --check functions infra tests bench
	$(BIN)/mypy
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$(CURDIR)/$(CHECKOV_VENV)/bin:$$PATH" $(BIN)/pytest

lint: $(BIN)/.installed  ## ruff (fixing what it can) and format
	$(BIN)/ruff check --fix functions infra tests bench
	$(BIN)/ruff format functions infra tests bench

typecheck: $(BIN)/.installed  ## mypy --strict on the package
	$(BIN)/mypy

validate: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed  ## sam validate --lint, cfn-lint and checkov on template.yaml
	$(SAM) validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact

bench: $(BIN)/.installed  ## benchmarks (calls and cost per notice, sweep reads, cold start, throughput, memory) -> build/bench/results.json
	$(BIN)/python -m bench.run

build: $(SAM_VENV)/.installed  ## sam build (no Docker needed)
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build --template template.yaml

deploy: build  ## sam deploy --guided (needs AWS credentials; defaults in samconfig.toml)
	$(SAM) deploy --guided

clean:  ## remove venvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam build .pytest_cache .mypy_cache .ruff_cache .coverage
