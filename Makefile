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
# apt-get needs root: as root (containers, CI) run it directly, otherwise through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install chromium demo unit static check test lint typecheck validate bench build deploy clean

CODE := functions emulator sim cli tests bench

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

# The browser tests (the outbox page; the customer pages, with axe-core, which the dev dependency
# axe-playwright-python bundles) and `headsup outbox --screenshot` / `headsup pages --screenshots`
# drive Debian's Chromium (Playwright is told where it is and never downloads a browser of its own).
chromium:  ## Debian's chromium package, for the headless-browser test (apt-get, once)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; }

install: $(BIN)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed  ## create the three venvs

# The run command: two simulated days of the whole stack on moto, the summary, then the page.
demo: $(BIN)/.installed  ## simulate two busy days locally (moto), print the summary, write build/headsup/outbox.html
	$(BIN)/headsup simulate --customers 60 --days 2 --seed 7
	$(BIN)/headsup outbox

# The tiers (tests/README.md): unit (no moto, no network), adapters and emulator (moto, one service
# at a time), integration (template.yaml -> moto -> handlers), system (slow: whole busy days, the
# CLI, the browser page). pytest-xdist runs them on both cores (--dist loadscope: a module stays on
# one worker, so a module-scoped run is built once); each worker provisions the template once and
# restores a snapshot of it for each test.
PYTEST := PATH="$(CURDIR)/$(SAM_VENV)/bin:$(CURDIR)/$(CHECKOV_VENV)/bin:$$PATH" $(BIN)/pytest -n 2 --dist loadscope
PYTEST_FAST := $(BIN)/pytest --no-cov -q

unit: $(BIN)/.installed  ## the fast loop: unit tests only (no moto), in seconds
	$(PYTEST_FAST) -n 2 tests/unit

static: $(BIN)/.installed  ## ruff (lint, complexity, format), mypy --strict, the import contracts
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy
	PYTHONPATH=functions:. $(BIN)/lint-imports

check: static  ## static checks and every test but the slow and browser ones, no coverage
	$(PYTEST_FAST) -n 2 --dist loadscope -m "not slow and not browser and not template" tests

# Two runs: every tier but the system one with branch coverage and its floor, then the system tier
# without coverage (tracing moto's every call made those whole days 50 % slower; the other tiers
# already cover 93 % of the code; see docs/decisions.md).
test: $(BIN)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed chromium static  ## everything CI runs: static checks, template checks (sam, cfn-lint, checkov), every test tier, coverage floor
	$(PYTEST) -m "not slow"
	$(PYTEST) -m slow --no-cov

lint: $(BIN)/.installed  ## ruff (fixing what it can) and format
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

typecheck: $(BIN)/.installed  ## mypy --strict on the package
	$(BIN)/mypy

validate: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed  ## sam validate --lint, cfn-lint and checkov on template.yaml
	$(SAM) validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact

bench: $(BIN)/.installed  ## benchmarks (calls and cost per notice, sweep reads, cold start, throughput, memory, the sweep's release, the scale model) -> build/bench/results.json
	$(BIN)/python -m bench.run

build: $(SAM_VENV)/.installed  ## sam build (no Docker needed)
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build --template template.yaml

deploy: build  ## sam deploy --guided (needs AWS credentials; defaults in samconfig.toml)
	$(SAM) deploy --guided

clean:  ## remove venvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam build .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage
