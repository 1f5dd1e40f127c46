# Quick start: `make demo` runs the whole pipeline on synthetic data; `make test` runs lint and tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stvg-installed
WORKSPACE ?= stvg-workspace/demo

.PHONY: install demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -n 2 --dist loadfile

test-fast: lint
	$(PY) -m pytest -n 2 --dist loadfile -m "not slow"

demo: $(STAMP)
	$(VENV)/bin/stvg --workspace $(WORKSPACE) demo --random-init

bench: $(STAMP)
	for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) stvg-workspace .pytest_cache .ruff_cache
