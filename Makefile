# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,gui,cluster,report,cloud

.PHONY: run test lint bench demo sysdeps clean

run: $(STAMP)
	$(PY) main.py

test: $(STAMP) sysdeps
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0  # CPU build; transform tests
	QT_QPA_PLATFORM=offscreen $(PY) -m ruff check .
	$(PY) -m mypy studio/core  # the engine is type-checked
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	bash scripts/wheel_check.sh $(PY)  # the built wheel, installed elsewhere, from an empty folder

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy studio/core

bench: $(STAMP)
	$(VENV)/bin/studio bench

demo: $(STAMP)
	$(VENV)/bin/studio demo

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11+ is needed (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

# System libraries Qt needs at run time (offscreen tests included); Xvfb and xdotool for the
# real-window session test.
sysdeps:
	@bash scripts/sysdeps.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
