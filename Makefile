# Two commands on a fresh machine (Python 3.11+, Java 17): `make test` proves everything, `make run` runs it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test run bench docs lint install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/actionlint .github/workflows/*.yml

test: lint
	$(PY) -m pytest

run: $(STAMP)
	$(PY) -m local.run

bench: $(STAMP)
	$(PY) -m benchmarks

docs: $(STAMP)
	$(PY) scripts/config_reference.py

clean:
	rm -rf .lake .bench .pytest_cache .ruff_cache spark-warehouse
