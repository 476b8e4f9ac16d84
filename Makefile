# ibkit: `make demo` runs the study, `make test` runs the test suite, `make docs` builds
# the documentation site into docs/_build/html.
# Each target creates .venv and installs what it needs if that has not been done yet.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
OUT    ?= demo-out

.PHONY: demo test docs bench bench-bmi lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch first, pinned to the CPU build, so that nothing else pulls a CUDA build
$(VENV)/.dev: pyproject.toml | $(PY)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev,torch]'
	touch $@

$(VENV)/.docs: pyproject.toml $(VENV)/.dev
	$(PIP) install --quiet -e '.[docs]'
	touch $@

$(VENV)/.bench: pyproject.toml $(VENV)/.dev
	$(PIP) install --quiet -e '.[bench]'
	touch $@

demo: $(VENV)/.dev
	$(PY) -m ibkit.cli demo --out $(OUT)

test: $(VENV)/.dev
	$(PY) -m ruff check src tests benchmarks examples docs
	$(PY) -m pytest -q

# Sphinx, warnings as errors; the tutorials in docs/tutorials run during the build
docs: $(VENV)/.docs
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

bench: $(VENV)/.bench
	$(PY) benchmarks/bench_ib_curve.py
	$(PY) benchmarks/bench_estimators.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_kde.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_plane.py
	$(PY) benchmarks/bench_vib.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_renyi.py
	$(PY) benchmarks/bench_rd.py
	$(PY) benchmarks/bench_plane_accuracy.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_cluster.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/bench_study.py

# benchmark-mi 0.1.3 imports only with older jax/scipy pins, so it gets its own venv;
# ibkit goes in without its dependencies (numpy and scipy come with the pins).
BMI_VENV := .venv-bmi
BMI_PY   := $(BMI_VENV)/bin/python

$(BMI_VENV)/.bmi: pyproject.toml
	$(PYTHON) -m venv $(BMI_VENV)
	$(BMI_PY) -m pip install --quiet --upgrade pip
	$(BMI_PY) -m pip install --quiet jax==0.4.18 jaxlib==0.4.18 scipy==1.11.4 chex==0.1.84 \
		optax==0.1.7 ml-dtypes==0.3.2 benchmark-mi==0.1.3
	$(BMI_PY) -m pip install --quiet --no-deps -e .
	touch $@

bench-bmi: $(BMI_VENV)/.bmi
	$(BMI_PY) benchmarks/bench_bmi.py

lint: $(VENV)/.dev
	$(PY) -m ruff check src tests benchmarks examples docs
	$(PY) -m ruff format --check src tests benchmarks examples docs/conf.py docs/_ext docs/tutorials

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache .hypothesis
	rm -rf docs/_build docs/api/generated docs/tutorials_gallery docs/sg_execution_times.rst
