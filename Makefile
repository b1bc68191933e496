# Quick start: `make demo` and `make test` both set everything up when needed.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# faiss-cpu timings are bimodal under OpenMP's default spin-wait policy (see
# benchmarks/NOTES.md); passive waiting is faster and stable on this machine.
export OMP_WAIT_POLICY ?= PASSIVE
export MPLBACKEND ?= Agg

.PHONY: setup demo test test-fast test-cudasim ptx bench accuracy clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11+); set PYTHON=..."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/hpx-uncert demo -o demo-out

# The whole suite: main process (parallel), then the numba.cuda simulator
# tests in their own process (NUMBA_ENABLE_CUDASIM must be set before numba
# is imported), then PTX compilation of kernels/*.cu when nvcc is present.
test: setup
	$(PY) -m pytest -q -n 2 -m "not cudasim" tests
	$(MAKE) --no-print-directory test-cudasim
	$(MAKE) --no-print-directory ptx

test-fast: setup
	$(PY) -m pytest -q -x -m "not cudasim and not slow" tests

test-cudasim: setup
	NUMBA_ENABLE_CUDASIM=1 $(PY) -m pytest -q -m cudasim tests

ptx: setup
	$(PY) tools/compile_kernels.py

bench: setup
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[bench]'
	$(VENV)/bin/hpx-uncert bench

accuracy: setup
	$(PY) benchmarks/accuracy.py

clean:
	rm -rf $(VENV) demo-out build dist *.egg-info .pytest_cache
