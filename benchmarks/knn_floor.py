"""The k-NN stage against the float32 GEMM floor, measured in one process at one moment.

On a shared machine wall times move with the load, and a roofline measured minutes
earlier is not the roof the k-NN stage met. Here the float32 GEMM rate in the block
shape ``4096 x d @ d x 4096`` is measured right before and right after the search,
in the same process, in wall seconds and in CPU seconds (``time.process_time``,
both threads counted), and the fraction of the floor ``2 N^2 d`` flops is given both
ways: the CPU-second fraction is the one the load does not distort.

Usage::

    python benchmarks/knn_floor.py [N] [d]        # default 100000 81
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import default_out_dir, load_average, machine_info, run_child, write_json  # noqa: E402

K = 5


def _timed(fn):
    c, t = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def _gemm(d: int, seconds: float = 2.0) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((4096, d)).astype(np.float32)
    b = np.ascontiguousarray(rng.standard_normal((4096, d)).astype(np.float32).T)
    c = np.empty((4096, 4096), dtype=np.float32)
    np.matmul(a, b, out=c)
    calls, wall, cpu = 0, 0.0, 0.0
    while wall < seconds:
        w, p, _ = _timed(lambda: np.matmul(a, b, out=c))
        wall, cpu, calls = wall + w, cpu + p, calls + 1
    flops = 2.0 * 4096 * 4096 * d * calls
    return {"gflops_wall": flops / wall / 1e9, "gflops_per_cpu_second": flops / cpu / 1e9}


def knn_stage(n: int, d: int) -> dict:
    """GEMM rate, knn_distances (k + 3 neighbours, as entropy asks) and faiss.knn alone."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numpy as np

    from hpx_uncert.neighbors import knn_distances
    from hpx_uncert.neighbors.faiss_flat import load_faiss

    faiss = load_faiss()
    x = np.random.default_rng(0).standard_normal((n, d))
    knn_distances(x[:2000], k=K + 3)
    before = _gemm(d)
    wall, cpu, res = _timed(lambda: knn_distances(x, k=K + 3))
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    f_wall, f_cpu, _ = _timed(lambda: faiss.knn(x32, x32, K + 4))
    after = _gemm(d)
    flops = 2.0 * n * n * d
    rate_wall = max(before["gflops_wall"], after["gflops_wall"])
    rate_cpu = max(before["gflops_per_cpu_second"], after["gflops_per_cpu_second"])
    return {"n": n, "d": d, "method": res.method, "gemm_before": before, "gemm_after": after,
            "knn_wall": wall, "knn_cpu": cpu, "faiss_wall": f_wall, "faiss_cpu": f_cpu,
            "floor_wall": flops / rate_wall / 1e9, "floor_cpu": flops / rate_cpu / 1e9,
            "fraction_wall": flops / rate_wall / 1e9 / wall,
            "fraction_cpu": flops / rate_cpu / 1e9 / cpu,
            "faiss_fraction_wall": flops / rate_wall / 1e9 / f_wall,
            "faiss_fraction_cpu": flops / rate_cpu / 1e9 / f_cpu}


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    n = int(float(argv[0])) if argv else 100_000
    d = int(argv[1]) if len(argv) > 1 else 81
    res = run_child("knn_floor:knn_stage", timeout=900, n=n, d=d)
    payload = {"machine": machine_info(), "result": res, "load_average_after": load_average()}
    write_json(default_out_dir() / f"knn_floor_{n}_{d}.json", payload)
    if "error" in res:
        sys.exit(res["error"])
    load = payload["machine"]["load_average_1_5_15"]
    print(f"N = {n}, d = {d}, route {res['method']}; load {load} -> "
          f"{payload['load_average_after']}")
    print(f"float32 GEMM 4096 x {d} @ {d} x 4096: {res['gemm_before']['gflops_wall']:.0f} / "
          f"{res['gemm_after']['gflops_wall']:.0f} GFLOP/s wall (before/after), "
          f"{res['gemm_before']['gflops_per_cpu_second']:.0f} / "
          f"{res['gemm_after']['gflops_per_cpu_second']:.0f} GFLOP per CPU-second")
    print(f"floor 2 N^2 d: {res['floor_wall']:.2f} s wall, {res['floor_cpu']:.2f} CPU-s")
    print(f"knn_distances k={K + 3}: {res['knn_wall']:.2f} s wall ({res['fraction_wall']:.0%} of "
          f"floor), {res['knn_cpu']:.2f} CPU-s ({res['fraction_cpu']:.0%} of floor)")
    print(f"faiss.knn k={K + 4} alone: {res['faiss_wall']:.2f} s wall "
          f"({res['faiss_fraction_wall']:.0%}), {res['faiss_cpu']:.2f} CPU-s "
          f"({res['faiss_fraction_cpu']:.0%})")


if __name__ == "__main__":
    main()
