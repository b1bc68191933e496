"""Time the k-NN routes side by side to place the kd-tree / faiss crossover.

Usage: OMP_WAIT_POLICY=PASSIVE python benchmarks/knn_method_choice.py N d [d ...]
Self k-NN, k = 5, standard normal points; best of two runs per route, seconds.
"""

import sys
import time

import numpy as np

from hpx_uncert.neighbors import knn_distances


def best_of(fn, repeats=2):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    n = int(float(sys.argv[1]))
    rng = np.random.default_rng(0)
    print(f"N={n} k=5 self-search, seconds (best of 2)")
    for d in map(int, sys.argv[2:]):
        x = rng.normal(size=(n, d))
        row = [f"d={d:3d}"]
        results = {}
        for method in ("kdtree", "faiss"):
            if method == "kdtree" and d > 32:
                continue
            t, r = best_of(lambda: knn_distances(x, k=5, method=method))
            results[method] = r.distances
            row.append(f"{method} {t:7.3f}")
        if len(results) == 2:
            row.append(f"max|diff| {np.max(np.abs(results['kdtree'] - results['faiss'])):.1e}")
        print("  ".join(row), flush=True)


if __name__ == "__main__":
    main()
