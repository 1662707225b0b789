# A fresh machine needs Python 3.11, 3.12 or 3.13 and Java 17. `make` alone lists the targets.
PYTHON ?= python3
# One virtualenv per interpreter, e.g. `make test PYTHON=python3.12 VENV=.venv-3.12`; Pulumi itself uses .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
# Each requirements file is installed into VENV by the targets that need it, and again only when it changes.
PROGRAM_STAMP := $(VENV)/.installed-program
LOCAL_STAMP := $(VENV)/.installed-local
DEV_STAMP := $(VENV)/.installed-dev
# requirements.txt alone, in a virtualenv of its own: `make test` proves the program runs from it.
PROGRAM_VENV ?= $(VENV)-program

.DEFAULT_GOAL := help
.PHONY: help test run bench docs lint install clean python-check

help: ## list the targets
	@echo "make TARGET, where TARGET is one of:"
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Options: PYTHON=python3.12 (the interpreter), VENV=.venv-3.12 (its virtualenv; default .venv),"
	@echo "         ARGS='--pipelines kindle' (passed on by make run and make bench; --help lists theirs)."

# Stops before a virtualenv is made from an unsupported Python, or when one holds another Python.
python-check:
	@$(PYTHON) tools/python_versions.py $(VENV) $(PROGRAM_VENV)

$(PY): | python-check
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(PROGRAM_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(LOCAL_STAMP): requirements-local.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-local.txt
	touch $@

# requirements-dev.txt includes the other two files, so it stands for them too.
$(DEV_STAMP): requirements.txt requirements-local.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(PROGRAM_STAMP) $(LOCAL_STAMP)

# Made anew whenever requirements.txt changes, so nothing it no longer names is left behind to hide a gap.
$(PROGRAM_VENV)/.installed: requirements.txt | python-check
	rm -rf $(PROGRAM_VENV)
	$(PYTHON) -m venv $(PROGRAM_VENV)
	$(PROGRAM_VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $@

install: python-check $(PROGRAM_STAMP) ## the program's virtualenv for pulumi preview and up: requirements.txt only

lint: python-check $(DEV_STAMP) ## ruff, ruff format --check, actionlint on the workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/actionlint .github/workflows/*.yml

test: lint $(PROGRAM_VENV)/.installed ## lint, then the whole test suite (pytest), with the program run from requirements.txt alone
	DATALAKE_PROGRAM_VENV=$(PROGRAM_VENV) $(PY) -m pytest

run: python-check $(LOCAL_STAMP) ## every pipeline on generated samples (or your data), then every query (see --help)
	$(PY) -m local.run $(ARGS)

bench: python-check $(DEV_STAMP) ## the benchmarks; exits non-zero when a target is missed, deletes what it generated
	$(PY) -m benchmarks $(ARGS)

docs: python-check $(PROGRAM_STAMP) ## regenerate the README's configuration reference from settings.py
	$(PY) tools/config_reference.py

clean: ## remove the local lake, benchmark scratch space and caches (not the virtualenvs)
	rm -rf .lake .bench .pytest_cache .ruff_cache spark-warehouse
