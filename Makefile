# A fresh machine needs Python 3.11, 3.12 or 3.13 and Java 17. `make` alone lists the targets.
PYTHON ?= python3
# One virtualenv per interpreter, e.g. `make test PYTHON=python3.12 VENV=.venv-3.12`; Pulumi itself uses .venv.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help test run bench docs lint install clean python-check

help: ## list the targets
	@echo "make TARGET, where TARGET is one of:"
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Options: PYTHON=python3.12 (the interpreter), VENV=.venv-3.12 (its virtualenv; default .venv),"
	@echo "         ARGS='--pipelines kindle' (passed on by make run and make bench; --help lists theirs)."

# Stops before a virtualenv is made from an unsupported Python, or when VENV holds one of another Python.
python-check:
	@$(PYTHON) tools/python_versions.py $(VENV)

$(PY): | python-check
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

install: python-check $(STAMP) ## make the virtualenv and install requirements*.txt (once, or when they change)

lint: python-check $(STAMP) ## ruff, ruff format --check, actionlint on the workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/actionlint .github/workflows/*.yml

test: lint ## lint, then the whole test suite (pytest)
	$(PY) -m pytest

run: python-check $(STAMP) ## every pipeline on generated samples (or your data), then every query (see --help)
	$(PY) -m local.run $(ARGS)

bench: python-check $(STAMP) ## the benchmarks; exits non-zero when a target is missed, deletes what it generated
	$(PY) -m benchmarks $(ARGS)

docs: python-check $(STAMP) ## regenerate the README's configuration reference from settings.py
	$(PY) tools/config_reference.py

clean: ## remove the local lake, benchmark scratch space and caches (not the virtualenvs)
	rm -rf .lake .bench .pytest_cache .ruff_cache spark-warehouse
