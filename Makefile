# make test   library + end-to-end tests (pytest), then the Odoo tier when an Odoo 19 is importable
# make demo   the whole flow against the embedded simulators
# make lint   ruff (and pylint-odoo when it installs)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := constraints/odoo19-py311.txt
STAMP := $(VENV)/.installed

.PHONY: test test-lib test-odoo demo lint bench clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[test,lint]'
	touch $(STAMP)

test: test-lib test-odoo

test-lib: $(STAMP)
	$(PY) -m pytest

test-odoo: $(STAMP)
	$(PY) tests/odoo_tier.py

demo: $(STAMP)
	$(PY) -m einvoice.cli demo

bench: $(STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
