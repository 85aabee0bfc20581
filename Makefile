# Every target sets up what it needs: the project's own virtualenv (.venv) with the pinned dev tools
# from requirements-dev.txt and this package installed in editable mode.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv generate unasync check-generated update-spec lint pytest contract test test-fast test-uvloop test-deps \
	test-pythons soak ci demo bench-deps bench bench-large clean

venv: $(STAMP)

$(STAMP): requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[cli,testing]"
	@touch $@

## generate: delete generated/ and regenerate it from openapi.yaml
generate: $(STAMP)
	scripts/generate.sh generated

## check-generated: fail, naming the files, if generated/ is not what openapi.yaml produces
check-generated: $(STAMP)
	scripts/check-generated.sh

## update-spec: take a new spec (SPEC=path or http(s) URL; OpenRouter's whole document is cut to its
## "Video Generation" operations): replace openapi.yaml, regenerate, drift check, then report what changed
## for clients, the semver bump and CHANGELOG entries (put in CHANGELOG.md unless CHANGELOG=0); the Python
## API is compared with BASE (default: the latest v* tag, else HEAD). Then `make test`, then commit
## openapi.yaml, generated/ and CHANGELOG.md together (docs/spec.md)
update-spec: $(STAMP)
	@[ -n "$(SPEC)" ] || { echo "usage: make update-spec SPEC=path/to/openapi.yaml|https://openrouter.ai/openapi.json [BASE=git-ref] [CHANGELOG=0]" >&2; exit 2; }
	@$(BIN)/python scripts/update_spec.py "$(SPEC)" $(if $(BASE),--base "$(BASE)") $(if $(filter 0,$(CHANGELOG)),--no-changelog)

## unasync: write the sync code (every _sync/: client, drivers, connections) from its async source (_async/)
unasync: $(STAMP)
	$(BIN)/python scripts/unasync.py

## lint: ruff on overlay/, tests/, bench/ and scripts/, mypy --strict on overlay/ and scripts/update_spec.py,
## and every _sync/ is what scripts/unasync.py writes
lint: $(STAMP)
	$(BIN)/python scripts/unasync.py --check
	$(BIN)/ruff check overlay tests bench scripts
	$(BIN)/ruff format --check overlay tests bench scripts
	$(BIN)/mypy --strict overlay/openrouter_video scripts/update_spec.py

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

## test: set-up, check-generated, lint and the whole suite (make ci adds the matrices)
test: $(STAMP) check-generated lint pytest

## test-fast: everything but the Prism contract tests (no Node.js needed); `make test` stays the full suite
test-fast: $(STAMP) check-generated lint
	$(BIN)/python -m pytest --ignore=tests/contract

# The transport, download and flow tests: what the event loop, the dependency versions and the
# interpreter can change.
MATRIX_TESTS := tests/test_fastio.py tests/test_transport.py tests/test_lending.py tests/test_download.py \
	tests/test_resume.py tests/test_retries.py tests/test_errors.py tests/test_verification.py \
	tests/test_secrets.py tests/test_flow.py tests/test_segments.py tests/test_engine_segments.py tests/test_ranges_nginx.py \
	tests/test_partial_file.py tests/test_client.py tests/test_tls.py tests/test_proxies.py tests/test_service.py \
	tests/test_signed.py tests/test_signed_nginx.py
UV := $(BIN)/uv

## test-uvloop: the async suites again, every asyncio.run on uvloop (what uvicorn[standard] runs)
test-uvloop: $(STAMP)
	$(BIN)/python -m pytest -q --loop=uvloop $(MATRIX_TESTS)

## test-deps: MATRIX_TESTS with the lowest, then the highest versions pyproject.toml's ranges allow
test-deps: $(STAMP)
	@for resolution in lowest-direct highest; do \
	  venv=.venv-deps-$$resolution; \
	  $(UV) venv -q --allow-existing -p $(PYTHON) $$venv; \
	  $(UV) pip install -q -p $$venv/bin/python --resolution $$resolution -e ".[cli,testing]" -r requirements-test.txt; \
	  $$venv/bin/python scripts/check_deps.py $$resolution; \
	  $$venv/bin/python -m pytest -q -p no:cacheprovider $(MATRIX_TESTS) || exit 1; \
	done

# CPython 3.12 and 3.13 wherever they are (pyenv's versions on these machines, or on PATH).
OTHER_PYTHONS := $(shell for v in 3.12 3.13; do \
	p=$$(ls -d $$HOME/.pyenv/versions/$$v.*/bin/python$$v 2>/dev/null | sort -V | tail -1); \
	[ -n "$$p" ] || p=$$(command -v python$$v); [ -n "$$p" ] && echo $$p; done)

## test-pythons: MATRIX_TESTS on every other CPython found (3.12, 3.13), latest allowed dependencies
test-pythons: $(STAMP)
	@[ -n "$(OTHER_PYTHONS)" ] || { echo "test-pythons: no CPython 3.12 or 3.13 found" >&2; exit 1; }
	@for py in $(OTHER_PYTHONS); do \
	  venv=.venv-$$(basename $$py); \
	  $(UV) venv -q --allow-existing -p $$py $$venv; \
	  $(UV) pip install -q -p $$venv/bin/python -e ".[cli,testing]" -r requirements-test.txt; \
	  $$venv/bin/python scripts/check_deps.py highest; \
	  $$venv/bin/python -m pytest -q -p no:cacheprovider $(MATRIX_TESTS) || exit 1; \
	done

## soak: the long-lived-process tests at size: 20x the soak rounds, 5,000 cancels, 10x the lending stress
soak: $(STAMP)
	OPENROUTER_VIDEO_SOAK=20 OPENROUTER_VIDEO_CANCELS=5000 OPENROUTER_VIDEO_STRESS=10 \
	  $(BIN)/python -m pytest -q -p no:cacheprovider -o timeout=1800 tests/test_soak.py \
	  tests/test_service.py tests/test_lending.py \
	  -k "soak or baseline or stress or cancels_during or thousand_cancels or cancelled_segmented"

## ci: what CI runs (.ci/run): make test, then the event-loop, dependency and Python matrices
ci: test test-uvloop test-deps test-pythons

## help: this list
help:
	@grep -E '^## ' Makefile | sed 's/^## /  /'

## demo: download a real MP4 through the CLI from an embedded local stand-in of the API
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# The bench's own tools, none of which `make test` needs: nginx-light (the upstream), curl and wget
# (contenders), openssl (a throwaway CA), aria2 (segmented downloads, issue 13) from apt, and
# requests (a contender) into the venv.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
REQUESTS_PIN := requests==2.34.2

# The contenders run in a venv of their own with what a user installs (this package with its `cli`
# extra) and requests, not in the development venv: there, schemathesis brings click, rich and pygments,
# with which `import httpx` also loads httpx's command line (5.3 MiB more peak RSS in every process).
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -e ".[cli]" $(REQUESTS_PIN)
	@touch $@

## bench-deps: install what the bench needs and `make test` does not (apt-get, and pip into .venv-bench)
bench-deps: $(STAMP) $(BENCH_STAMP)
	@missing=""; \
	for pair in nginx:nginx-light curl:curl wget:wget openssl:openssl aria2c:aria2; do \
	  tool=$${pair%%:*}; \
	  command -v $$tool >/dev/null || [ -x /usr/sbin/$$tool ] || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(BIN)/python -m pip install -q --disable-pip-version-check $(REQUESTS_PIN)

BENCH_RUN = $(BENCH_VENV)/bin/python bench/run.py --upstream nginx --json bench/results.json \
	--compare bench/results.json --doc docs/benchmarks.md
BENCH_SEGMENTS = $(BENCH_VENV)/bin/python bench/segments.py --json bench/segments.json \
	--compare bench/segments.json --doc docs/benchmarks.md

## bench: 1 GiB and 4 GiB over HTTP and HTTPS against nginx, 3 rounds, then the start-up (bench/startup.py),
## then the WAN (bench-wan); updates bench/results.*, bench/startup.md, bench/wan/results-* and docs/benchmarks.md
bench: bench-deps
	$(BENCH_RUN) --sizes 1G,4G --rounds 3 --command "make bench"
	$(BENCH_SEGMENTS) --command "make bench"
	$(BENCH_VENV)/bin/python bench/startup.py --out bench/startup.md --doc docs/benchmarks.md
	$(MAKE) bench-wan

## bench-large: the same with 5 rounds
bench-large: bench-deps
	$(BENCH_RUN) --sizes 1G,4G --rounds 5 --command "make bench-large"

## bench-wan: downloads over an emulated WAN link over TLS (root, Linux; bench/wan/): curl, aria2c, httpx and
## VideoClient in two network namespaces, with CUBIC then BBR (WAN_CC); WAN_ROUNDS (default 2), WAN_SIZES
## (default 8M,32M,128M); pastes each report and the targets' verdicts into docs/benchmarks.md
.PHONY: bench-wan
WAN_ROUNDS ?= 2
WAN_SIZES ?= 8M,32M,128M
WAN_CC ?= cubic bbr
bench-wan: bench-deps
	@command -v gcc >/dev/null && command -v ping >/dev/null && command -v ip >/dev/null || { \
	  $(SUDO) apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    gcc libc6-dev iputils-ping iproute2; }
	for cc in $(WAN_CC); do \
	  $(SUDO) $(BENCH_VENV)/bin/python bench/wan/run.py --tls --cc $$cc --rounds $(WAN_ROUNDS) --sizes $(WAN_SIZES) \
	    --json bench/wan/results-$$cc.json --out bench/wan/results-$$cc.md --doc docs/benchmarks.md || exit 1; \
	done

clean:
	rm -rf $(VENV) $(BENCH_VENV) .venv-deps-* .venv-python3.* node_modules build dist .pytest_cache .mypy_cache .ruff_cache demo-output
