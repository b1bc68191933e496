"""Experiment (not used by the package): self-search candidates from half the Gram matrix.

Kept to reproduce the "Symmetric self-search" entry of benchmarks/NOTES.md::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \
        python benchmarks/symmetric_knn.py 20000 81

It times this search and faiss flat, each under ``select.exact_knn`` (so both give
the exact k-NN, compared at the end), in CPU seconds and wall seconds.

In a self-search the distance from i to j is the distance from j to i, so only the
blocks ``J >= I`` of the N x N inner products are computed (numpy's float32 GEMM,
``N^2 d`` flops instead of ``2 N^2 d``); each off-diagonal block updates the
running top-kc of its rows *and* of its columns. The top-kc update scans a block
row with a vectorised count of entries under the row's current k-th distance and
inserts only where that count is non-zero, so selection costs well under a
nanosecond per entry once the thresholds have settled (benchmarks/NOTES.md,
"Symmetric self-search").

Coordinates are centred on the mean before the float32 cast (round-off grows with
the squared norms, not with the distances); the error bound is that of
:mod:`.faiss_flat`, and :func:`select.exact_knn` re-measures and verifies as for
any candidate search. The first call computes the candidates of every point; later
calls with a larger ``kc`` (rows that failed verification) go to faiss flat.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from hpx_uncert.neighbors.faiss_flat import FaissFlatSearch
from hpx_uncert.neighbors.select import exact_knn

_U32 = 2.0**-24
_VECTORISE = {"contract", "reassoc", "arcp", "nsz"}
#: entries per vectorised threshold test before the scalar insertion loop
_STRIP = 64
#: columns owned by one task of the column pass (no two threads touch one column)
_COLUMN_TASK = 128


@njit(cache=True)
def _insert(best_d, best_i, p, v, j):
    """Insert (v, j) into point p's ascending top-kc, dropping the last entry."""
    s = best_d.shape[1] - 1
    while s > 0 and best_d[p, s - 1] > v:
        best_d[p, s] = best_d[p, s - 1]
        best_i[p, s] = best_i[p, s - 1]
        s -= 1
    best_d[p, s] = v
    best_i[p, s] = j


@njit(fastmath=_VECTORISE, cache=True)
def _approx_row(gram, a, ni, nj, vals):
    for t in range(vals.shape[0]):
        vals[t] = ni + nj[t] - 2.0 * gram[a, t]


@njit(fastmath=_VECTORISE, cache=True)
def _count_below_each(vals, tau, w):
    c = 0
    for u in range(w):
        c += vals[u] < tau[u]
    return c


@njit(parallel=True, cache=True)
def _columns_pass(gram, ni, nj, i0, j0, best_d, best_i):
    """Top-kc of the block's column points j0.. against its rows i0.. (columns split)."""
    bi, bj = gram.shape
    kc = best_d.shape[1]
    n_tasks = (bj + _COLUMN_TASK - 1) // _COLUMN_TASK
    for task in prange(n_tasks):
        t0 = task * _COLUMN_TASK
        w = min(_COLUMN_TASK, bj - t0)
        tau = np.empty(w, dtype=np.float32)
        vals = np.empty(w, dtype=np.float32)
        for u in range(w):
            tau[u] = best_d[j0 + t0 + u, kc - 1]
        for a in range(bi):
            for u in range(w):
                vals[u] = ni[a] + nj[t0 + u] - 2.0 * gram[a, t0 + u]
            if _count_below_each(vals, tau, w) == 0:
                continue
            for u in range(w):
                if vals[u] < tau[u]:
                    p = j0 + t0 + u
                    _insert(best_d, best_i, p, vals[u], i0 + a)
                    tau[u] = best_d[p, kc - 1]



@njit(fastmath=_VECTORISE, cache=True)
def _strip_flags(vals, tau, tau_cols, flags):
    """Per strip of _STRIP entries: how many are under the row or their column threshold.

    A fixed trip count and one combined test let the compiler vectorise this scan
    (~0.1 ns per entry, against ~0.6 for a counted loop of variable length).
    """
    for s in range(flags.shape[0]):
        c = np.float32(0.0)
        for u in range(_STRIP):
            v = vals[s * _STRIP + u]
            c += np.float32(1.0) if (v < tau) | (v < tau_cols[s * _STRIP + u]) \
                else np.float32(0.0)
        flags[s] = c


@njit(parallel=True, cache=True)
def _block_pass(gram, ni, nj, i0, j0, best_d, best_i, tau_cols, columns, hits, hit_rows,
                hit_vals, hit_count, n_tasks):
    """Rows of the block updated in place; column hits recorded per task for later.

    ``tau_cols`` (padded to whole strips with -inf) holds each column's threshold as
    it stood before the block: a snapshot, whose staleness only lets a few more hits
    through. Without ``columns`` (diagonal blocks) only rows are updated. A task whose
    hit buffer fills reports -1, and the caller redoes the columns of the block.
    """
    bi, bj = gram.shape
    kc = best_d.shape[1]
    n_strips = tau_cols.shape[0] // _STRIP
    cap = hits.shape[0] // n_tasks
    per = (bi + n_tasks - 1) // n_tasks
    for task in prange(n_tasks):
        vals = np.full(n_strips * _STRIP, np.inf, dtype=np.float32)
        flags = np.empty(n_strips, dtype=np.float32)
        h = task * cap
        end = h + cap
        full = False
        for a in range(task * per, min(bi, (task + 1) * per)):
            p = i0 + a
            _approx_row(gram, a, ni[a], nj, vals[:bj])
            tau = best_d[p, kc - 1]
            _strip_flags(vals, tau, tau_cols, flags)
            for st in range(n_strips):
                if flags[st] == 0.0:
                    continue
                for t in range(st * _STRIP, min(bj, (st + 1) * _STRIP)):
                    v = vals[t]
                    if v < tau:
                        _insert(best_d, best_i, p, v, j0 + t)
                        tau = best_d[p, kc - 1]
                    if columns and v < tau_cols[t] and not full:
                        if h == end:
                            full = True
                        else:
                            hits[h] = t
                            hit_rows[h] = p
                            hit_vals[h] = v
                            h += 1
        hit_count[task] = -1 if full else h - task * cap


@njit(cache=True)
def _apply_hits(best_d, best_i, j0, hits, hit_rows, hit_vals, hit_count):
    kc = best_d.shape[1]
    cap = hits.shape[0] // hit_count.shape[0]
    for task in range(hit_count.shape[0]):
        for h in range(task * cap, task * cap + hit_count[task]):
            p = j0 + hits[h]
            if hit_vals[h] < best_d[p, kc - 1]:
                _insert(best_d, best_i, p, hit_vals[h], hit_rows[h])


class SymmetricSelfSearch:
    """Candidate search for a self-search (see :class:`select.CandidateSearch`).

    Parameters
    ----------
    x : ndarray of shape (n, d), float64
    memory_budget : int
        Bytes; bounds the float32 copy of the points plus one Gram block.
    """

    name = "symmetric-gemm"

    def __init__(self, x: np.ndarray, *, memory_budget: int):
        n, d = x.shape
        self._x = x
        center = x.mean(axis=0)
        self._xc = np.ascontiguousarray(x - center, dtype=np.float32)
        self._norms = np.einsum("ij,ij->i", self._xc, self._xc, dtype=np.float64)
        self._bound = (2 * d + 10) * _U32 * (self._norms + float(self._norms.max()))
        # a square Gram block of side b holds 4 b^2 bytes; 4096 keeps GEMM efficient
        side = int(np.sqrt(max(memory_budget // 2, 1) / 4))
        self.block = max(256, min(4096, side, n))
        self._kc = 0
        self._best_d = self._best_i = None
        self._fallback = None

    def error_bound(self, rows: np.ndarray) -> np.ndarray:
        return self._bound[rows]

    def candidates(self, rows: np.ndarray, kc: int) -> tuple[np.ndarray, np.ndarray]:
        if self._best_d is None:
            self._search_all(kc)
        if kc <= self._kc:
            sq = self._best_d[rows, :kc].astype(np.float64)
            return sq, self._best_i[rows, :kc]
        if self._fallback is None:
            self._fallback = FaissFlatSearch(self._x, None,
                                             memory_budget=max(self.block**2 * 8, 1 << 26))
        return self._fallback.candidates(rows, kc)

    def _search_all(self, kc: int) -> None:
        n = self._xc.shape[0]
        kc = min(kc, n)
        best_d = np.full((n, kc), np.inf, dtype=np.float32)
        best_i = np.full((n, kc), -1, dtype=np.int64)
        norms = self._norms.astype(np.float32)
        b = self.block
        gram = np.empty(b * b, dtype=np.float32)
        n_tasks = 32
        hits = np.empty(n_tasks * 4096, dtype=np.int64)
        hit_rows = np.empty_like(hits)
        hit_vals = np.empty(len(hits), dtype=np.float32)
        hit_count = np.empty(n_tasks, dtype=np.int64)
        starts = range(0, n, b)
        # diagonal blocks first: every point then has kc candidates and a finite
        # threshold, so the off-diagonal blocks see few hits
        pairs = [(i0, i0) for i0 in starts] + [(i0, j0) for i0 in starts for j0 in starts
                                                if j0 > i0]
        for i0, j0 in pairs:
            xi = self._xc[i0:i0 + b]
            xj = self._xc[j0:j0 + b]
            # a contiguous (len(xi), len(xj)) view: numpy hands only contiguous
            # outputs to BLAS
            g = gram[:len(xi) * len(xj)].reshape(len(xi), len(xj))
            np.matmul(xi, xj.T, out=g)
            ni, nj = norms[i0:i0 + b], norms[j0:j0 + b]
            strips = -(-len(xj) // _STRIP)
            tau_cols = np.full(strips * _STRIP, -np.inf, dtype=np.float32)
            columns = i0 != j0
            if columns:
                tau_cols[:len(xj)] = best_d[j0:j0 + len(xj), kc - 1]
            _block_pass(g, ni, nj, i0, j0, best_d, best_i, tau_cols, columns, hits, hit_rows,
                        hit_vals, hit_count, n_tasks)
            if not columns:
                continue
            if (hit_count < 0).any():
                _columns_pass(g, ni, nj, i0, j0, best_d, best_i)
            else:
                _apply_hits(best_d, best_i, j0, hits, hit_rows, hit_vals, hit_count)
        self._best_d, self._best_i, self._kc = best_d, best_i, kc



def main(argv=None) -> None:
    import sys
    import time

    argv = sys.argv[1:] if argv is None else argv
    n, d = int(float(argv[0])), int(argv[1])
    k, budget = 8, 2 * 1024**3
    x = np.random.default_rng(0).standard_normal((n, d))
    warm = x[:9000]  # two blocks: compiles every kernel outside the timing
    exact_knn(warm, warm, k, SymmetricSelfSearch(warm, memory_budget=budget),
              self_search=True, extra=1, memory_budget=budget)
    results = {}
    for name, search in (("symmetric", SymmetricSelfSearch(x, memory_budget=budget)),
                         ("faiss", FaissFlatSearch(x, None, memory_budget=budget))):
        c, t = time.process_time(), time.perf_counter()
        dist, _, passes = exact_knn(x, x, k, search, self_search=True, extra=1,
                                    memory_budget=budget)
        print(f"{name:10s} wall {time.perf_counter() - t:7.3f} s  cpu "
              f"{time.process_time() - c:7.3f} s  passes {passes}")
        results[name] = dist
    print("max |difference|:", float(np.abs(results["symmetric"] - results["faiss"]).max()))


if __name__ == "__main__":
    main()
