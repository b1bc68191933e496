"""Roofline of this machine in the shapes k-NN uses: GEMM rates and memory bandwidth.

Brute-force k-NN of N points in d dimensions needs the N x N inner products,
``2 N^2 d`` flops; at the float32 GEMM rate measured here in the block shape
``4096 x d @ d x 4096`` that is the *floor* every exact k-NN stage is compared to
(peers.py and scaling.py report "fraction of floor" = floor time / measured time).

Measured, each in its own child process:

- numpy (its OpenBLAS) float32 and float64 GEMM, ``4096 x d @ d x 4096`` for
  ``d in {4, 16, 81, 243}``, and square ``4096^3`` for reference;
- faiss-cpu's own BLAS through ``faiss.pairwise_distances`` (GEMM plus the norm
  terms) in the same shapes: the rate faiss's flat search can reach;
- memory bandwidth: numpy copy and sum (one thread), and a two-thread numba read
  and triad over 1 GiB arrays (256 MiB with ``--quick``; this machine's L3 holds
  480 MiB, so only the full size measures main memory).

Usage::

    python benchmarks/roofline.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (default_out_dir, load_average, machine_info, markdown_table,  # noqa: E402
                    run_child, write_json)

DIMS = (4, 16, 81, 243)
ROWS = 4096


def _best_rate(fn, flops: float, min_seconds: float) -> float:
    fn()  # first call: thread start-up, page faults
    best = float("inf")
    spent = 0.0
    calls = 0
    while spent < min_seconds or calls < 3:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        spent += dt
        calls += 1
    return flops / best


def gemm_rates(dims=DIMS, rows: int = ROWS, min_seconds: float = 0.3) -> dict:
    """numpy GEMM rates in GFLOP/s: ``rows x d @ d x rows`` and square ``rows^3``."""
    import numpy as np

    rng = np.random.default_rng(0)
    out = {}
    for dtype in ("float32", "float64"):
        rates = {}
        for d in (*dims, rows):
            a = rng.standard_normal((rows, d)).astype(dtype)
            b = np.ascontiguousarray(rng.standard_normal((rows, d)).astype(dtype).T)
            c = np.empty((rows, rows), dtype=dtype)
            rate = _best_rate(lambda: np.matmul(a, b, out=c), 2.0 * rows * rows * d,
                              min_seconds)
            rates["square" if d == rows else str(d)] = rate / 1e9
        out[dtype] = rates
    return out


def faiss_rates(dims=DIMS, rows: int = ROWS, min_seconds: float = 0.3) -> dict:
    """faiss ``pairwise_distances`` (its BLAS + norms), float32, as GFLOP/s of ``2 rows^2 d``."""
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss
    import numpy as np

    rng = np.random.default_rng(0)
    rates = {}
    for d in dims:
        a = rng.standard_normal((rows, d)).astype(np.float32)
        b = rng.standard_normal((rows, d)).astype(np.float32)
        rates[str(d)] = _best_rate(lambda: faiss.pairwise_distances(a, b),
                                   2.0 * rows * rows * d, min_seconds) / 1e9
    return {"float32": rates}


def bandwidth(mib: int = 512) -> dict:
    """Memory bandwidth in GB/s (10^9 bytes): copy, read and triad over ``mib`` MiB arrays."""
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def read_sum(a):
        s = 0.0
        for i in prange(a.shape[0]):
            s += a[i]
        return s

    @njit(parallel=True, cache=False)
    def triad(out, b, c, scale):
        for i in prange(out.shape[0]):
            out[i] = b[i] + scale * c[i]

    n = mib * 1024 * 1024 // 8
    a = np.ones(n)
    b = np.ones(n)
    c = np.ones(n)
    read_sum(a[:1024])
    triad(a[:1024], b[:1024], c[:1024], 2.0)
    size = a.nbytes
    results = {
        # bytes moved as counted by STREAM: read + write, write-allocate not counted
        "numpy copy (1 thread)": 2 * size / _best_time(lambda: np.copyto(b, a)),
        "numpy sum (1 thread, read)": size / _best_time(lambda: a.sum()),
        "numba read (2 threads)": size / _best_time(lambda: read_sum(a)),
        "numba triad (2 threads)": 3 * size / _best_time(lambda: triad(a, b, c, 2.0)),
    }
    return {key: value / 1e9 for key, value in results.items()}


def _best_time(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def floor_seconds(n_query: int, n_data: int, d: int, sgemm_gflops: float) -> float:
    """Brute-force k-NN floor ``2 n m d`` flops at the float32 GEMM rate, seconds."""
    return 2.0 * n_query * n_data * d / (sgemm_gflops * 1e9)


def sgemm_rate(d: int, roofline: dict | None) -> float | None:
    """The float32 GEMM rate for dimension ``d`` from a roofline result (GFLOP/s).

    Dimensions not measured are interpolated linearly in ``log d`` between the two
    nearest measured ones (clamped at the ends).
    """
    if not roofline or "numpy_gemm" not in roofline:
        return None
    import math

    table = {int(k): v for k, v in roofline["numpy_gemm"]["float32"].items() if k != "square"}
    dims = sorted(table)
    if d in table:
        return table[d]
    if d <= dims[0]:
        return table[dims[0]]
    if d >= dims[-1]:
        return table[dims[-1]]
    lo = max(x for x in dims if x < d)
    hi = min(x for x in dims if x > d)
    w = (math.log(d) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return table[lo] + w * (table[hi] - table[lo])


def run(quick: bool = False, out_dir: Path | None = None, verbose: bool = True) -> dict:
    """Measure the roofline; write ``roofline.json`` and ``roofline.md``; return the result."""
    out_dir = Path(out_dir or default_out_dir())
    min_seconds = 0.1 if quick else 0.5
    payload = {"machine": machine_info(), "quick": quick, "rows": ROWS}
    payload["numpy_gemm"] = run_child("roofline:gemm_rates", timeout=300,
                                      min_seconds=min_seconds)
    payload["faiss_gemm"] = run_child("roofline:faiss_rates", timeout=300,
                                      min_seconds=min_seconds)
    payload["bandwidth_gbs"] = run_child("roofline:bandwidth", timeout=300,
                                         mib=256 if quick else 1024)
    payload["load_average_after"] = load_average()
    text = render(payload)
    write_json(out_dir / "roofline.json", payload)
    (out_dir / "roofline.md").write_text(text + "\n")
    if verbose:
        print(text)
    return payload


def render(payload: dict) -> str:
    gemm = payload["numpy_gemm"]
    fa = payload["faiss_gemm"]
    rows = []
    for d in (*map(str, DIMS), "square"):
        rows.append([f"{ROWS}x{d} @ {d}x{ROWS}" if d != "square" else f"{ROWS}^3 (square)",
                     gemm.get("float32", {}).get(d), gemm.get("float64", {}).get(d),
                     fa.get("float32", {}).get(d)])
    parts = ["GEMM rate, GFLOP/s (best of repeated calls, 2 threads)", "",
             markdown_table(["shape", "numpy float32", "numpy float64",
                             "faiss pairwise float32"], rows), ""]
    bw = payload["bandwidth_gbs"]
    if "error" not in bw:
        kernels = [[k, v] for k, v in bw.items() if isinstance(v, float) and k != "wall_seconds"]
        parts += ["Memory bandwidth, GB/s", "", markdown_table(["kernel", "GB/s"], kernels), ""]
    rate = sgemm_rate(81, payload)
    if rate:
        floor = floor_seconds(100_000, 100_000, 81, rate)
        parts.append(f"k-NN floor at N = 1e5, d = 81: 2 N^2 d = {2e10 * 81:.3g} flops at "
                     f"{rate:.0f} GFLOP/s = {floor:.1f} s.")
    errors = [f"{name}: {v['error']}" for name, v in
              (("numpy_gemm", gemm), ("faiss_gemm", fa), ("bandwidth", bw)) if "error" in v]
    if errors:
        parts += ["", "Errors: " + "; ".join(errors)]
    return "\n".join(parts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    args = parser.parse_args(argv)
    run(quick=args.quick, out_dir=args.out)


if __name__ == "__main__":
    main()
