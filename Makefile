# One command each, on a machine with python3 and make:
#   make reproduce   set up .venv (first time) and reproduce every figure on the default preset into figures/
#   make test        set up .venv (first time) and run the test suite (two worker processes)
#   make test-torch  (optional) set up .venv-torch with PyTorch and run the PyTorch tests
#   make lint        ruff (lint + format check) and mypy on src/
#   make docs        build the documentation site into site/ (mkdocs --strict: a broken reference fails)
# Both venvs install the exact versions of constraints.txt (the published numbers); pyproject.toml holds ranges.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: reproduce test lint docs setup setup-torch test-torch clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,lint,docs]'
	touch $@

reproduce: setup
	$(BIN)/inrdict reproduce

# Two pytest-xdist workers, whole modules each (module fixtures computed once): on 2 cores a test process keeps the
# cores ~60 % busy (compiling and plotting run on one), two keep them full. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup
	$(BIN)/ruff check src
	$(BIN)/ruff format --check src
	$(BIN)/mypy

docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Optional: PyTorch INRs (`inrdict analyse torch:...`) in a second venv; PyTorch's wheel brings several GB of CUDA.
TORCH_VENV ?= .venv-torch

setup-torch: $(TORCH_VENV)/.installed

$(TORCH_VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,torch]'
	touch $@

test-torch: setup-torch
	$(TORCH_VENV)/bin/python -m pytest tests/pytorch

clean:
	rm -rf $(VENV) $(TORCH_VENV) figures site .pytest_cache
