# Every target sets up what it needs: the project's own virtualenv (.venv) with the pinned dev tools
# from requirements-dev.txt and this package installed in editable mode.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv generate check-generated lint pytest contract test demo bench bench-large clean

venv: $(STAMP)

$(STAMP): requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[cli]"
	@touch $@

## generate: delete generated/ and regenerate it from openapi.yaml
generate: $(STAMP)
	scripts/generate.sh generated

## check-generated: fail, naming the files, if generated/ is not what openapi.yaml produces
check-generated: $(STAMP)
	scripts/check-generated.sh

## lint: ruff on overlay/ and tests/, mypy --strict on overlay/
lint: $(STAMP)
	$(BIN)/ruff check overlay tests bench scripts
	$(BIN)/ruff format --check overlay tests bench scripts
	$(BIN)/mypy --strict overlay/openrouter_video

PRISM_STAMP := node_modules/.installed

# Prism (pinned in package.json / package-lock.json) for the contract tests.
$(PRISM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## pytest: the whole suite (unit, fault, CLI and contract tests)
pytest: $(STAMP) $(PRISM_STAMP)
	$(BIN)/python -m pytest

## contract: only the contract tests against Prism
contract: $(STAMP) $(PRISM_STAMP)
	$(BIN)/python -m pytest tests/contract

## test: everything CI runs
test: $(STAMP) check-generated lint pytest

## demo: download a real MP4 through the CLI from an embedded local stand-in of the API
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

## bench: throughput and memory against curl and plain httpx (64 MiB and 1 GiB); updates README
bench: $(STAMP)
	$(BIN)/python bench/run.py --sizes 64M,1G --readme README.md --command "make bench"

## bench-large: the same with 4 GiB as well
bench-large: $(STAMP)
	$(BIN)/python bench/run.py --sizes 64M,1G,4G --readme README.md --command "make bench-large"

clean:
	rm -rf $(VENV) node_modules build dist .pytest_cache .mypy_cache .ruff_cache demo-output
