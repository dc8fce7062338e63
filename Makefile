# One command each, on a machine with python3 and make:
#   make reproduce   set up .venv (first time) and reproduce every figure on the default preset into figures/
#   make test        set up .venv (first time) and run the test suite
#   make test-torch  (optional) set up .venv-torch with PyTorch and run the PyTorch tests
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: reproduce test setup setup-torch test-torch clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

reproduce: setup
	$(BIN)/inrdict reproduce

test: setup
	$(BIN)/python -m pytest

# Optional: PyTorch INRs (`inrdict analyse torch:...`) in a second venv; PyTorch's wheel brings several GB of CUDA.
TORCH_VENV ?= .venv-torch

setup-torch: $(TORCH_VENV)/.installed

$(TORCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,torch]'
	touch $@

test-torch: setup-torch
	$(TORCH_VENV)/bin/python -m pytest tests/pytorch

clean:
	rm -rf $(VENV) $(TORCH_VENV) figures .pytest_cache
