#!/usr/bin/env bash
# One-shot check of the CUDA backend on a lent GPU machine (nothing downloadable
# there: it has CuPy, numba-cuda and torch for CUDA 13, no faiss).
#
#   tools/gpu_check.sh [OUTDIR]      (default OUTDIR: $OUT or ./gpu-check-out)
#
# 1. environment: nvidia-smi, versions, `hpx-uncert devices`
# 2. the package from this working tree, without dependencies (PYTHONPATH=. if
#    the editable install is not possible)
# 3. PTX compilation of kernels/*.cu, then the GPU tests (CPU vs CUDA parity,
#    recall, fused kernel vs sort reference) and the numba kernel PTX compile
# 4. benchmarks/gpu_bench.py: GEMM rate, k-NN at N = 1e5 / 1e6 (d = 81), groups,
#    end-to-end evaluate on 1e6 samples; a table on stdout, JSON in OUTDIR
# Every stage runs under `timeout`; the whole script stays under 8 minutes.
# Exit status: 0 when every stage passed, else the number of failed stages.
set -uo pipefail
cd "$(dirname "$0")/.."
OUTDIR="${1:-${OUT:-gpu-check-out}}"
mkdir -p "$OUTDIR"
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && .venv/bin/python -c "import cupy" 2>/dev/null && PY=.venv/bin/python
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export OMP_WAIT_POLICY=PASSIVE MPLBACKEND=Agg
# float32 GEMM in IEEE float32 unless the caller asks for TF32 (the certificate
# then widens its error bound, see hpx_uncert/backends/cuda/knn.py)
export CUPY_TF32="${CUPY_TF32:-0}"
failed=0
stage() {  # stage NAME SECONDS CMD...
  local name=$1 limit=$2; shift 2
  echo; echo "=== $name (limit ${limit}s) ==="
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$OUTDIR/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: exit $rc after $((SECONDS - t0)) s ==="
  echo "$name $rc $((SECONDS - t0))" >> "$OUTDIR/stages.txt"
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
}
: > "$OUTDIR/stages.txt"

stage env 20 bash -c "nvidia-smi; $PY -c 'import sys, numpy, cupy; print(sys.version); print(\"numpy\", numpy.__version__, \"cupy\", cupy.__version__, \"cuda runtime\", cupy.cuda.runtime.runtimeGetVersion())'; $PY -c 'import numba_cuda; print(\"numba-cuda\", numba_cuda.__version__)'"
stage install 45 bash -c "$PY -m pip install --no-deps --no-build-isolation -q -e . || echo 'editable install not possible; using PYTHONPATH=.'"
stage devices 20 bash -c "$PY -m hpx_uncert.cli.main devices || $PY -c \"from hpx_uncert.backends import available_backends as a, resolve_device as r; print(a(), r('auto'))\""
stage ptx 30 "$PY" tools/compile_kernels.py --out "$OUTDIR/ptx"
stage pytest-gpu 120 "$PY" -m pytest -q -m "not cudasim" -p no:cacheprovider tests/test_gpu.py tests/test_knn_tiling.py tests/test_kernels_ptx.py -o addopts="-ra" --junitxml="$OUTDIR/pytest-gpu.xml"
stage bench 240 "$PY" benchmarks/gpu_bench.py --out "$OUTDIR/gpu_bench.json" --stage-timeout 120

echo; echo "stages (name exit seconds):"; cat "$OUTDIR/stages.txt"
echo "failed stages: $failed"
exit "$failed"
