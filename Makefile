# make test   library + end-to-end tests (pytest), then the Odoo tier when an Odoo 19 is importable
# make demo   the whole flow against the embedded simulators
# make lint   ruff (and pylint-odoo when it installs)
# make campaign   the hostile-input and fault campaigns in full
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := constraints/odoo19-py311.txt
STAMP := $(VENV)/.installed
# the library also runs on current releases: the newest Python on the machine (pyenv's, wherever PYENV_ROOT puts
# them, else python3.13/3.12 on the PATH), without the pins
PYENV_PYTHONS := $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.1[2-9]*/bin/python3)
CURRENT_PYTHON ?= $(or $(lastword $(sort $(PYENV_PYTHONS))),$(shell command -v python3.13 || command -v python3.12),$(PYTHON))
CURRENT_VENV := .venv-current
PIP_INSTALL := -m pip install --quiet --disable-pip-version-check
# the Ministry's FA(3) schema ships in ksef-client; the pinned venv reads only its files, without its dependencies
KSEF_CLIENT_VERSION := 0.20.0
FA3_SCHEMA_PACKAGE := ksef-client==$(KSEF_CLIENT_VERSION)
# third-party clients that drive our simulators as outside judges (tests/test_peer_*.py), on current releases only:
# their dependencies (httpx, cryptography >= 42, lxml >= 5, xmlsec) would break the pins. anafpy needs Python 3.12
PEERS := 'ksef-client[xml]==$(KSEF_CLIENT_VERSION)' 'signxml==5.2.0' 'anafpy==0.13.3; python_version >= "3.12"'

.PHONY: test test-lib test-current test-odoo demo lint bench campaign clean

# --system-site-packages lets the tests see an Odoo installed for this Python; the pins win inside the venv
$(STAMP): pyproject.toml $(CONSTRAINTS) Makefile
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) $(PIP_INSTALL) -c $(CONSTRAINTS) -e '.[test,lint]'
	$(PY) $(PIP_INSTALL) --no-deps $(FA3_SCHEMA_PACKAGE)
	touch $(STAMP)

$(CURRENT_VENV)/.installed: pyproject.toml Makefile
	$(CURRENT_PYTHON) -m venv $(CURRENT_VENV)
	$(CURRENT_VENV)/bin/python $(PIP_INSTALL) --upgrade -e '.[test]'
	$(CURRENT_VENV)/bin/python $(PIP_INSTALL) $(PEERS)
	touch $@

test: test-lib test-current test-odoo

test-lib: $(STAMP)
	$(PY) -m pytest

test-current: $(CURRENT_VENV)/.installed
	$(CURRENT_VENV)/bin/python -c 'import sys, cryptography, lxml.etree as e, requests; print("current releases: Python", sys.version.split()[0], "cryptography", cryptography.__version__, "lxml", e.__version__, "requests", requests.__version__)'
	$(CURRENT_VENV)/bin/python -m pytest -q -p no:cacheprovider

test-odoo: $(STAMP)
	$(PY) tests/odoo_tier.py

demo: $(STAMP)
	$(PY) -m einvoice.cli demo
	$(PY) -m tests.odoo_demo

bench: $(STAMP)
	$(PY) -m bench

# the hostile-input and fault campaigns in full, on the pinned and on the current library versions
campaign: $(STAMP) $(CURRENT_VENV)/.installed
	$(PY) -m campaign
	$(CURRENT_VENV)/bin/python -m campaign

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pylint account_einvoice l10n_ro_efactura l10n_pl_ksef

clean:
	rm -rf $(VENV) $(CURRENT_VENV) .pytest_cache .ruff_cache *.egg-info
