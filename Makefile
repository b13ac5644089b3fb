# One entry point for users and CI. `make reports` and `make test` set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SCENARIO ?= base
PORT ?= 8888
# With a conda environment active (conda env create -f environment.yml; conda activate econ),
# use its Python; otherwise a local virtual environment in .venv.
ifneq ($(strip $(CONDA_PREFIX)),)
  PY := $(CONDA_PREFIX)/bin/python
  ENV_STAMP := .env-stamp
else
  PY := .venv/bin/python
  ENV_STAMP := .venv/.stamp
endif
export UV_PYTHON_DOWNLOADS := never
include tests/portability.mk
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help env browser test test-portability reports lab bench notebooks reliability calibrate clean

help:  ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed 's/:.*## /\t/' | expand -t 18

env: $(ENV_STAMP)  ## Set up the environment (done automatically by the other commands)

# The browser test (tests/test_browser.py) drives a Chromium with Playwright; Playwright's own
# browser download is not used. Found: $$ECON_CHROMIUM, else /usr/bin/chromium, else one on PATH.
browser:  ## Install Chromium for the browser test when missing (apt-get, as root)
	@if [ -n "$$ECON_CHROMIUM" ]; then \
	    test -x "$$ECON_CHROMIUM" || echo "ECON_CHROMIUM=$$ECON_CHROMIUM is not an executable: the browser test will fail"; \
	elif [ -x /usr/bin/chromium ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser test (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
	    echo "apt-get could not install chromium: the browser test will fail"; \
	else \
	    echo "No Chromium for the browser test. Debian/Ubuntu: sudo apt-get install chromium."; \
	    echo "macOS: install Google Chrome or Chromium (brew install --cask chromium), then"; \
	    echo "  export ECON_CHROMIUM=\"/Applications/Chromium.app/Contents/MacOS/Chromium\""; \
	    echo "  (or \"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome\")."; \
	    echo "Without it the browser test fails; the rest of the suite runs."; \
	fi

.venv/.stamp: pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is required"; exit 1; }
	python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/python -m pip install --quiet --upgrade uv || true
	if [ -x .venv/bin/uv ]; then .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -e .; \
	else .venv/bin/python -m pip install --quiet -e .; fi
	touch $@

.env-stamp: pyproject.toml
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

test: env browser  ## Run the whole test suite: unit, data, notebooks (nbval), reports, browser
	$(PY) -m pytest tests notebooks $(NBVAL) -p no:cacheprovider -q
	@$(MAKE) --no-print-directory test-portability

test-portability: env  ## Validate the notebooks again on other CPU instructions (numpy SIMD off, OpenBLAS Sandybridge)
	NPY_DISABLE_CPU_FEATURES="$(PORTABLE_NPY_DISABLE_CPU_FEATURES)" \
	OPENBLAS_CORETYPE=$(PORTABLE_OPENBLAS_CORETYPE) \
	    $(PY) -m pytest notebooks $(NBVAL) -p no:cacheprovider -q

reports: env  ## Execute every notebook into reports/<scenario>/ (SCENARIO=base|name|"a b"|all)
	$(PY) -m econ.reports $(SCENARIO)

notebooks: env  ## Re-execute the stored notebooks in place (after a deliberate change)
	$(PY) -m econ.reports --in-place

lab: env  ## Start JupyterLab on the notebooks (127.0.0.1, token printed)
	@TOKEN=$$($(PY) -c 'import secrets; print(secrets.token_hex(16))'); \
	echo "JupyterLab on the notebooks: http://127.0.0.1:$(PORT)/lab?token=$$TOKEN"; \
	exec $(PY) -m jupyter lab --no-browser --ip 127.0.0.1 --port $(PORT) --allow-root \
	    --notebook-dir notebooks --IdentityProvider.token=$$TOKEN

bench: env  ## Print the speed benchmarks (import time, Monte Carlo chain, kernel harness, report run)
	@for b in tests/benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

calibrate: env  ## Refit the engine's constants (data/calibration.csv) and print the error on held-out rows
	$(PY) -m econ.calibrate

reliability: env  ## Bad input, corrupted data and injected faults: prints a summary
	$(PY) -m pytest tests -m reliability -p no:cacheprovider -q -s

clean:  ## Remove the environment and the reports
	rm -rf .venv .env-stamp reports
