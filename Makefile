# ibkit: `make demo` runs the study, `make test` runs the test suite.
# Each target creates .venv and installs what it needs if that has not been done yet.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
OUT    ?= demo-out

.PHONY: demo test bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, pinned to the CPU build, so that nothing else pulls a CUDA build
$(VENV)/.dev: pyproject.toml | $(PY)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev,torch]'
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.dev
	$(PIP) install --quiet -e '.[bench]'
	touch $@

demo: $(VENV)/.dev
	$(PY) -m ibkit.demo --out $(OUT)

test: $(VENV)/.dev
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m pytest -q

bench: $(VENV)/.bench
	$(PY) benchmarks/bench_ib_curve.py
	$(PY) benchmarks/bench_estimators.py

lint: $(VENV)/.dev
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache .hypothesis
