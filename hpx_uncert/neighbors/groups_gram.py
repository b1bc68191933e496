"""Grouped exact k-NN through per-group float32 inner products, exact float64 selection.

The direct kernel (one thread per query point, d multiply-adds per pair in a scalar
float64 loop) runs at a few GFLOP/s. Here each group is centred on its data mean,
cast to float32, and its inner products computed as one small matrix product, one
group per Numba thread: by single-threaded BLAS sgemm when threadpoolctl can hold
the BLAS pools to one thread (a multi-threaded BLAS called from several threads at
once collapses on a shared machine), else by a compiled loop that the compiler
vectorises (``fastmath`` reassociation and contraction only; no assumption about
NaN or inf). Per query point the ``kc`` smallest approximate squared distances
``|q|^2 + |x|^2 - 2 q.x`` are kept, re-measured in float64 from the original
coordinates, and the k smallest returned (benchmarks/NOTES.md, "Grouped k-NN").

Exactness: float32 round-off moves an approximate squared distance by at most
``bound = (4 d + 20) 2^-24 (|q|^2 + max |x|^2)`` (centred norms; this covers the
rounding of the coordinates, the d-term sums and the re-measure itself). If the
k-th re-measured distance is at most ``(smallest approximate distance left out) -
bound``, no point left out can be nearer; otherwise the row is scanned again
exactly in float64 (rare: near ties, points far from their group's mean).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: smallest dimension where the product route beat the direct kernel (1000 groups of 256,
#: k = 8, CPU seconds: d = 8: 0.49 vs 0.46, d = 16: 0.54 vs 0.64, d = 81: 0.90 vs 2.43);
#: below it both are bound by the top-k selection, not by the distances
GRAM_MIN_DIM = 12
_U32 = 2.0**-24
_VECTORISE = {"contract", "reassoc", "arcp", "nsz"}


def candidate_count(k: int) -> int:
    """Candidates kept per query point before the exact re-measure: k plus a few spares."""
    return k + 4 + k // 4


@njit(fastmath=_VECTORISE, cache=True)
def _inner_products(qc, xt, out):
    """``out = qc @ xt`` for float32 (a, d) and (d, b); rows four at a time."""
    a, d = qc.shape
    b = xt.shape[1]
    for i0 in range(0, a, 4):
        i1 = min(i0 + 4, a)
        for i in range(i0, i1):
            for j in range(b):
                out[i, j] = 0.0
        for c in range(d):
            for i in range(i0, i1):
                s = qc[i, c]
                for j in range(b):
                    out[i, j] += s * xt[c, j]


@njit(fastmath=_VECTORISE, cache=True)
def _centred_f32(src, lo, hi, center):
    """Rows lo..hi of src minus center, as float32, and their squared norms (float64)."""
    d = src.shape[1]
    out = np.empty((hi - lo, d), dtype=np.float32)
    sq = np.zeros(hi - lo)
    for r in range(hi - lo):
        acc = 0.0
        for col in range(d):
            v = np.float32(src[lo + r, col] - center[col])
            out[r, col] = v
            acc += float(v) * float(v)
        sq[r] = acc
    return out, sq


@njit(cache=True)
def _insert(vals, ids, v, j):
    """Insert (v, j) into the ascending arrays, dropping the last entry."""
    p = len(vals) - 1
    while p > 0 and vals[p - 1] > v:
        vals[p] = vals[p - 1]
        ids[p] = ids[p - 1]
        p -= 1
    vals[p] = v
    ids[p] = j


@njit(fastmath=_VECTORISE, cache=True)
def _sq_dist(query, i, data, j):
    """Squared float64 distance; reassociated so the sum vectorises (round-off ~ d ulp)."""
    v = 0.0
    for col in range(query.shape[1]):
        u = query[i, col] - data[j, col]
        v += u * u
    return v


@njit(cache=True)
def _group(query, data, qa, qb, xa, xb, k, kc, exclude_self, bound_factor, use_blas, out):
    """Exact k smallest squared distances of query rows qa..qb among data rows xa..xb."""
    d = query.shape[1]
    a = qb - qa
    b = xb - xa
    center = np.zeros(d)
    for j in range(xa, xb):
        for col in range(d):
            center[col] += data[j, col]
    for col in range(d):
        center[col] /= max(b, 1)
    qc, q_sq = _centred_f32(query, qa, qb, center)
    if exclude_self:
        # a self-search: the query group is the data group
        xc, x_sq = qc, q_sq
    else:
        xc, x_sq = _centred_f32(data, xa, xb, center)
    x_sq_max = 0.0
    for t in range(b):
        x_sq_max = max(x_sq_max, x_sq[t])
    if use_blas:
        gram = np.dot(qc, xc.T)
    else:
        gram = np.empty((a, b), dtype=np.float32)
        _inner_products(qc, np.ascontiguousarray(xc.T), gram)
    cand_d = np.empty(kc)
    cand_j = np.empty(kc, dtype=np.int64)
    exact = np.empty(kc)
    exact_j = np.empty(kc, dtype=np.int64)
    for li in range(a):
        i = qa + li
        for s in range(kc):
            cand_d[s] = np.inf
            cand_j[s] = -1
        rest = np.inf  # smallest approximate distance not among the candidates
        for t in range(b):
            j = xa + t
            if exclude_self and j == i:
                continue
            v = q_sq[li] + x_sq[t] - 2.0 * float(gram[li, t])
            if v < cand_d[kc - 1]:
                rest = min(rest, cand_d[kc - 1])
                _insert(cand_d, cand_j, v, j)
            elif v < rest:
                rest = v
        for s in range(kc):
            exact[s] = np.inf
            exact_j[s] = -1
        for s in range(kc):
            if cand_j[s] >= 0:
                _insert(exact, exact_j, _sq_dist(query, i, data, cand_j[s]), cand_j[s])
        if exact[k - 1] <= rest - bound_factor * (q_sq[li] + x_sq_max):
            for t in range(k):
                out[i, t] = exact[t]
            continue
        # not provably exact: scan the whole group in float64
        for s in range(kc):
            exact[s] = np.inf
        for j in range(xa, xb):
            if not (exclude_self and j == i):
                v = _sq_dist(query, i, data, j)
                if v < exact[kc - 1]:
                    _insert(exact, exact_j, v, j)
        for t in range(k):
            out[i, t] = exact[t]


@njit(parallel=True, cache=True)
def _all_groups(query, data, q_off, x_off, k, kc, exclude_self, bound_factor, use_blas,
                out):
    for g in prange(len(q_off) - 1):
        if q_off[g + 1] > q_off[g]:
            _group(query, data, q_off[g], q_off[g + 1], x_off[g], x_off[g + 1], k,
                   min(kc, x_off[g + 1] - x_off[g]), exclude_self, bound_factor, use_blas,
                   out)


def grouped_knn_sq_gram(q, q_off, x, x_off, k, exclude_self, out):
    """Fill ``out`` (n_total, k) with the exact ascending squared k-NN distances per group.

    Parameters
    ----------
    q, x : ndarray of shape (n_total, d) and (m_total, d), float64
        Query and data points (``x`` is ``q`` for a self-search).
    q_off, x_off : ndarray of shape (G + 1,), int64
        Group boundaries; sizes already validated (enough points per group).
    k : int
    exclude_self : bool
        Self-search: a point is not its own neighbour (exclusion by index).
    out : ndarray of shape (n_total, k), float64
    """
    d = q.shape[1]
    args = (np.ascontiguousarray(q), np.ascontiguousarray(x), np.asarray(q_off, dtype=np.int64),
            np.asarray(x_off, dtype=np.int64), int(k), candidate_count(int(k)),
            bool(exclude_self), (4 * d + 20) * _U32)
    limits = _single_threaded_blas()
    if limits is None:
        _all_groups(*args, False, out)
        return
    with limits:
        _all_groups(*args, True, out)


def _single_threaded_blas():
    """A context that holds every BLAS to one thread, or None without threadpoolctl.

    Each Numba thread then calls sgemm on its own group: ~80 GFLOP/s per core on
    256 x 81 x 256 products, against ~30 for the compiled loop; a multi-threaded BLAS
    called from several threads at once collapses instead (benchmarks/NOTES.md).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1, user_api="blas")
