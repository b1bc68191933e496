#!/usr/bin/env python3
"""GPU benchmarks: k-NN throughput against the device's own measured GEMM rate.

Stages (each guarded: a failure is recorded and the next stage runs):

1. ``sgemm``: cuBLAS float32 GEMM rate in the k-NN tile shape
   (``rows x 81 @ 81 x cols``) and for a square 8192^3 reference.
2. ``knn``: exact self k-NN (k = 5, d = 81) at N = 1e5 and 1e6 through
   ``knn_distances_cuda``; its rate counts the ``2 N^2 d`` flops of the distance
   GEMM and is reported as a fraction of the k-NN-shape GEMM rate (target >= 0.5).
3. ``groups``: the batched small-group kernel, 1e4 groups x 256 samples, d = 81,
   k = 5, plus the per-group Kozachenko-Leonenko entropies on the device.
4. ``evaluate``: ``hpx-uncert evaluate --device cuda`` end to end on a synthetic
   archive of 1e6 pooled samples, d = 81 (only if the evaluate command and the
   archive writer exist).

Usage: python benchmarks/gpu_bench.py [--out gpu_bench.json] [--sizes 1e5,1e6]
       [--skip evaluate] [--stage-timeout 240]
Prints a table and writes the figures as JSON. Needs CuPy and a CUDA device.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

D = 81
K = 5


def _sync():
    import cupy

    cupy.cuda.Device().synchronize()


def _best_time(fn, repeats=3):
    fn()
    _sync()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync()
        best = min(best, time.perf_counter() - t0)
    return best


def stage_sgemm(results):
    import cupy

    from hpx_uncert.backends.cuda.config import MAX_TILE_COLS

    rng = cupy.random.default_rng(0)
    rows, cols = 16384, MAX_TILE_COLS
    a = rng.standard_normal((rows, D), dtype=cupy.float32)
    b = rng.standard_normal((cols, D), dtype=cupy.float32)
    t = _best_time(lambda: a @ b.T, repeats=5)
    results["sgemm_knn_shape_tflops"] = 2 * rows * cols * D / t / 1e12
    results["sgemm_knn_shape"] = f"{rows}x{D} @ {D}x{cols}"
    n = 8192
    s = rng.standard_normal((n, n), dtype=cupy.float32)
    t = _best_time(lambda: s @ s, repeats=3)
    results["sgemm_square_tflops"] = 2 * n**3 / t / 1e12
    results["cupy_tf32"] = os.environ.get("CUPY_TF32", "0")


def stage_knn(results, sizes):
    import cupy

    from hpx_uncert.backends.cuda import knn_distances_cuda

    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        x = rng.standard_normal((n, D), dtype=np.float32)
        knn_distances_cuda(x[:2000], k=K)  # compile the kernels outside the timing
        cupy.get_default_memory_pool().free_all_blocks()
        t0 = time.perf_counter()
        res = knn_distances_cuda(x, k=K)
        seconds = time.perf_counter() - t0
        rate = 2 * n * n * D / seconds / 1e12
        row = {"n": n, "d": D, "k": K, "seconds": seconds, "gemm_equiv_tflops": rate,
               "method": res.method}
        if "sgemm_knn_shape_tflops" in results:
            row["fraction_of_sgemm"] = rate / results["sgemm_knn_shape_tflops"]
        rows.append(row)
        del x, res
    results["knn"] = rows


def stage_groups(results, n_groups=10_000, size=256):
    from hpx_uncert.backends.cuda import grouped_kl_entropy, grouped_knn_distances_cuda

    rng = np.random.default_rng(1)
    x = rng.standard_normal((n_groups * size, D))
    off = np.arange(0, n_groups * size + 1, size, dtype=np.int64)
    grouped_knn_distances_cuda(x[:4 * size], off[:5], k=K)  # JIT outside the timing
    t0 = time.perf_counter()
    grouped_knn_distances_cuda(x, off, k=K)
    t_knn = time.perf_counter() - t0
    grouped_kl_entropy(x[:4 * size], off[:5], k=K)
    t0 = time.perf_counter()
    h = grouped_kl_entropy(x, off, k=K)
    t_entropy = time.perf_counter() - t0
    results["groups"] = {
        "groups": n_groups, "size": size, "d": D, "k": K,
        "knn_seconds": t_knn, "entropy_seconds": t_entropy,
        "groups_per_second": n_groups / t_entropy,
        "pair_distances_per_second": n_groups * size * (size - 1) / t_knn,
        "mean_entropy_nats": float(np.mean(h)),
        # standard normal in d = 81: h = (d/2) log(2 pi e); the KL estimate at
        # N = 256 is biased, reported for orientation only
        "true_entropy_nats": 0.5 * D * np.log(2 * np.pi * np.e),
    }


def stage_evaluate(results, timeout_s, n_meas=1000, per_meas=1000):
    if importlib.util.find_spec("hpx_uncert.cli.evaluate_cmd") is None:
        results["evaluate"] = {"skipped": "no evaluate command in this tree"}
        return
    try:
        from hpx_uncert.io import write_archive
    except ImportError as exc:
        results["evaluate"] = {"skipped": f"archive writer unavailable ({exc})"}
        return
    rng = np.random.default_rng(2)
    with tempfile.TemporaryDirectory(prefix="hpx-gpu-bench-") as tmp:
        truth = rng.standard_normal((n_meas, D)).astype(np.float32)
        draws = (truth[:, None, :] + 0.3 * rng.standard_normal((n_meas, per_meas, D))
                 ).astype(np.float32)
        path = write_archive(Path(tmp) / "synthetic.h5", models={"gauss": draws}, truth=truth)
        del draws
        cmd = [sys.executable, "-m", "hpx_uncert.cli.main", "evaluate", str(path),
               "-o", str(Path(tmp) / "out"), "--device", "cuda"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        seconds = time.perf_counter() - t0
        entry = {"samples": n_meas * per_meas, "d": D, "seconds": seconds,
                 "returncode": proc.returncode, "command": " ".join(cmd[1:])}
        if proc.returncode != 0:
            entry["stderr_tail"] = proc.stderr[-2000:]
        report = Path(tmp) / "out" / "report.json"
        if report.is_file():
            entry["report_bytes"] = report.stat().st_size
        results["evaluate"] = entry


def print_table(results):
    print("\nGPU benchmark" + (f" on {results.get('device')}" if results.get("device") else ""))
    if "sgemm_knn_shape_tflops" in results:
        print(f"  sgemm {results['sgemm_knn_shape']}: {results['sgemm_knn_shape_tflops']:.1f} "
              f"TFLOP/s; square 8192^3: {results['sgemm_square_tflops']:.1f} TFLOP/s")
    for row in results.get("knn", []):
        frac = row.get("fraction_of_sgemm")
        print(f"  knn N={row['n']:.0e} d={row['d']} k={row['k']}: {row['seconds']:.2f} s, "
              f"{row['gemm_equiv_tflops']:.1f} TFLOP/s GEMM-equivalent"
              + (f" = {100 * frac:.0f} % of sgemm" if frac is not None else "")
              + f"  [{row['method']}]")
    g = results.get("groups")
    if g:
        print(f"  groups {g['groups']} x {g['size']} d={g['d']}: k-NN {g['knn_seconds']:.2f} s, "
              f"+entropy {g['entropy_seconds']:.2f} s ({g['groups_per_second']:.0f} groups/s)")
    e = results.get("evaluate")
    if e:
        if "seconds" in e:
            print(f"  evaluate {e['samples']:.0e} samples d={e['d']}: {e['seconds']:.1f} s "
                  f"(exit {e['returncode']})")
        else:
            print(f"  evaluate: {e.get('skipped')}")
    for name, err in results.get("errors", {}).items():
        print(f"  {name}: FAILED {err}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_bench.json", help="JSON file for the figures")
    parser.add_argument("--sizes", default="1e5,1e6", help="k-NN sizes N, comma-separated")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["sgemm", "knn", "groups", "evaluate"])
    parser.add_argument("--stage-timeout", type=float, default=240,
                        help="seconds allowed to the end-to-end evaluate")
    args = parser.parse_args(argv)
    from hpx_uncert.backends.cuda import unavailable_reason

    results = {"host": platform.node(), "python": sys.version.split()[0], "errors": {}}
    problem = unavailable_reason()
    if problem is not None:
        print(f"GPU benchmark skipped: CUDA is not usable here ({problem}).")
        results["errors"]["cuda"] = problem
        Path(args.out).write_text(json.dumps(results, indent=2))
        return 1
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    results["device"] = name.decode() if isinstance(name, bytes) else str(name)
    results["cupy"] = cupy.__version__
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    stages = [("sgemm", lambda: stage_sgemm(results)),
              ("knn", lambda: stage_knn(results, sizes)),
              ("groups", lambda: stage_groups(results)),
              ("evaluate", lambda: stage_evaluate(results, args.stage_timeout))]
    for name, run in stages:
        if name in args.skip:
            continue
        t0 = time.perf_counter()
        try:
            run()
        except Exception as exc:  # recorded; the remaining stages still run
            results["errors"][name] = f"{type(exc).__name__}: {exc}"
        print(f"[{name}] {time.perf_counter() - t0:.1f} s", flush=True)
        Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
