# One command each, on a machine with python3 and make:
#   make reproduce   set up .venv (first time) and reproduce every figure on the default preset into figures/
#   make test        set up .venv (first time) and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: reproduce test setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

reproduce: setup
	$(BIN)/inrdict reproduce

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) figures .pytest_cache
