"""Tiled exact k-NN written once for any array module ``xp`` (numpy or cupy).

The GPU search and its tests share this code: on the device ``xp`` is CuPy, the
GEMM is cuBLAS and the tile selection is the fused kernel of
``kernels/knn_select.cu``; in the tests ``xp`` is numpy and the selection is
:func:`select_tile_xp`, the sort-based statement of what the kernel computes.

Scheme (the CPU path's, ``hpx_uncert.neighbors.select``, on device arrays):

1. Centre both point sets on the data mean (distances are unchanged, the float32
   round-off, which grows with the squared norms, shrinks), cast to float32.
2. For each block of query rows, loop over column tiles of the data: one GEMM
   ``gram = Q . X^T``, then merge the tile into the running top-``kc`` candidates
   by approximate squared distance ``|q|^2 + |x|^2 - 2 q.x`` with label exclusion.
3. Re-measure the ``kc`` candidates in float64 from the original coordinates and
   keep the ``k`` nearest. A row is certified exact when its k-th exact squared
   distance does not exceed the largest approximate candidate distance minus a
   worst-case bound on the float32 error: no point left out can be nearer. Rows
   that fail (near ties) are searched again with four times as many candidates,
   until every data point is a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...neighbors.args import too_few_eligible

#: unit round-off of float32, and of TF32 (10 explicit mantissa bits) tensor cores
UNIT_ROUNDOFF_F32 = 2.0**-24
UNIT_ROUNDOFF_TF32 = 2.0**-11


def candidate_margin(k: int) -> int:
    """Spare candidates beyond ``k`` (and the excluded ones) fetched in the first pass."""
    return 4 + k // 4


def error_bound(query_sq, max_data_sq: float, d: int, unit_roundoff: float = UNIT_ROUNDOFF_F32):
    """Worst-case |approximate - exact| squared distance per query row.

    The GEMM route ``|q|^2 + |x|^2 - 2 q.x`` with ``d``-term sums, inputs rounded to
    the GEMM precision, is off by at most about ``(2d + 10) u (|q|^2 + |x|^2)``
    (standard dot-product error bound, with room for the norms and the casts).

    Parameters
    ----------
    query_sq : array of shape (r,)
        Squared norms of the (centred) query rows, float64.
    max_data_sq : float
        Largest squared norm among the (centred) data rows.
    d : int
        Dimension.
    unit_roundoff : float
        ``2**-24`` for float32 GEMM, ``2**-11`` when tensor cores round inputs to TF32.
    """
    return (2 * d + 10) * unit_roundoff * (query_sq + max_data_sq)


@dataclass(frozen=True)
class TilePlan:
    """Rows of queries per block and data columns per GEMM tile."""

    rows: int
    cols: int

    def n_tiles(self, n_query: int, n_data: int) -> tuple[int, int]:
        return -(-n_query // self.rows), -(-n_data // self.cols)


def plan_tiles(n_query: int, n_data: int, d: int, kc: int, budget_bytes: int, *,
               max_cols: int = 1 << 16, min_rows: int = 32,
               max_tile_bytes: int = 1 << 30) -> TilePlan:
    """Tile sizes whose working arrays fit in ``budget_bytes``.

    Per query row a block holds the float32 GEMM row (``4 * cols`` bytes), the query
    coordinates in float32 and float64 (``12 d``), the candidate lists (``12 kc``)
    and the float64 re-measure of ``kc`` gathered data rows (``8 kc d``).

    Parameters
    ----------
    n_query, n_data, d, kc : int
        Problem shape and candidates per query.
    budget_bytes : int
        Device memory the working arrays may use (resident data excluded).
    max_cols : int
        Cap on the GEMM tile width (wider tiles gain nothing once cuBLAS is saturated).
    min_rows : int
        Smallest useful block height; the tile narrows before the block gets shorter.
    max_tile_bytes : int
        Cap on one float32 GEMM tile: beyond about a GiB bigger tiles gain nothing
        and only delay the first result.

    Returns
    -------
    TilePlan
        ``rows`` in ``[1, n_query]``, ``cols`` in ``[1, n_data]``.
    """
    per_row_fixed = 12 * d + 12 * kc + 8 * kc * d
    cols = min(n_data, max_cols)
    want_rows = min(n_query, min_rows)
    # narrow the tile until `want_rows` rows fit, but never below one warp's width
    while cols > 32 and want_rows * (4 * cols + per_row_fixed) > budget_bytes:
        cols //= 2
    rows = min(int(budget_bytes // (4 * cols + per_row_fixed)), max_tile_bytes // (4 * cols))
    return TilePlan(rows=max(1, min(n_query, rows)), cols=max(1, cols))


def stable_argsort_rows(xp, a):
    """Row-wise stable argsort (numpy and CuPy both accept ``kind="stable"``)."""
    return xp.argsort(a, axis=1, kind="stable")


def select_tile_xp(xp, gram, query_sq, data_sq, query_labels, data_labels, col0: int,
                   best_dist, best_idx) -> None:
    """Merge one GEMM tile into the running candidates; the kernel's reference.

    Parameters
    ----------
    xp : module
        numpy or cupy.
    gram : array of shape (r, c), float32
        ``Q_block . X_tile^T``.
    query_sq : array of shape (r,), float32
    data_sq : array of shape (c,), float32
    query_labels : array of shape (r,) int64 or None
    data_labels : array of shape (c,) int64 or None
        Pairs with equal labels are skipped (both given) or nothing is (None).
    col0 : int
        Data index of the tile's first column.
    best_dist : array of shape (r, kc), float32, updated in place
        Ascending approximate squared distances, ``+inf`` where empty.
    best_idx : array of shape (r, kc), int64, updated in place
        Data indices, ``-1`` where empty.

    Notes
    -----
    Candidates are ordered by (distance, index). Earlier tiles hold smaller indices
    and the running list is already in that order, so a stable sort of the
    concatenation [running list, tile] realises it.
    """
    rows, cols = gram.shape
    kc = best_dist.shape[1]
    d2 = xp.maximum(query_sq[:, None] + data_sq[None, :] - 2.0 * gram, 0).astype(xp.float32)
    if query_labels is not None and data_labels is not None:
        d2[data_labels[None, :] == query_labels[:, None]] = xp.inf
    idx = xp.broadcast_to(xp.arange(col0, col0 + cols, dtype=xp.int64), (rows, cols))
    all_d = xp.concatenate([best_dist, d2], axis=1)
    all_i = xp.concatenate([best_idx, idx], axis=1)
    order = stable_argsort_rows(xp, all_d)[:, :kc]
    new_d = xp.take_along_axis(all_d, order, axis=1)
    new_i = xp.take_along_axis(all_i, order, axis=1)
    new_i[xp.isinf(new_d)] = -1
    best_dist[...] = new_d
    best_idx[...] = new_i


#: select(gram, query_sq, data_sq, query_labels, data_labels, col0, best_dist, best_idx)
Selector = Callable[..., None]


@dataclass
class DeviceProblem:
    """Arrays of one search, resident in ``xp`` memory where they fit.

    ``data32`` (m, d) float32 centred, ``data_sq`` (m,) float32, ``data64`` (m, d)
    float64 original coordinates on the device or ``None`` (then rows are gathered
    from ``host_data``), labels (m,) int64 or None.
    """

    xp: object
    host_query: np.ndarray
    host_data: np.ndarray
    center: np.ndarray
    data32: object
    data_sq: object
    data64: object
    query_labels: np.ndarray | None
    data_labels: object
    max_data_sq: float
    unit_roundoff: float


def prepare(xp, query: np.ndarray, data: np.ndarray, *, query_labels, data_labels,
            budget_bytes: int, unit_roundoff: float = UNIT_ROUNDOFF_F32) -> DeviceProblem:
    """Centre, cast and upload the data once; keep float64 data resident if it fits."""
    center = data.mean(axis=0)
    centred = data - center
    data32 = xp.asarray(np.ascontiguousarray(centred, dtype=np.float32))
    data_sq = xp.einsum("ij,ij->i", data32, data32)
    max_data_sq = float(np.max(np.einsum("ij,ij->i", centred, centred)))
    data64 = xp.asarray(data) if data.nbytes <= budget_bytes // 2 else None
    labels = None
    if query_labels is not None and data_labels is not None:
        labels = xp.asarray(np.ascontiguousarray(data_labels, dtype=np.int64))
        query_labels = np.ascontiguousarray(query_labels, dtype=np.int64)
    else:
        query_labels = None
    return DeviceProblem(xp, query, data, center, data32, data_sq, data64, query_labels,
                         labels, max_data_sq, unit_roundoff)


def candidates(prob: DeviceProblem, rows: np.ndarray, kc: int, plan: TilePlan,
               select: Selector):
    """Approximate top-``kc`` (squared distance, index) of the query ``rows``; device arrays."""
    xp = prob.xp
    q = xp.asarray(np.ascontiguousarray(prob.host_query[rows] - prob.center, dtype=np.float32))
    q_sq = xp.einsum("ij,ij->i", q, q)
    q_lab = None if prob.query_labels is None else xp.asarray(prob.query_labels[rows])
    best_dist = xp.full((len(rows), kc), xp.inf, dtype=xp.float32)
    best_idx = xp.full((len(rows), kc), -1, dtype=xp.int64)
    m = prob.data32.shape[0]
    for col0 in range(0, m, plan.cols):
        tile = prob.data32[col0:col0 + plan.cols]
        gram = q @ tile.T
        x_lab = None if prob.data_labels is None else prob.data_labels[col0:col0 + plan.cols]
        select(gram, q_sq, prob.data_sq[col0:col0 + plan.cols], q_lab, x_lab, col0,
               best_dist, best_idx)
    return best_dist, best_idx


def remeasure(prob: DeviceProblem, rows: np.ndarray, cand):
    """Exact float64 squared distances of the candidates, ``+inf`` where ``cand < 0``."""
    xp = prob.xp
    safe = xp.maximum(cand, 0)
    if prob.data64 is not None:
        x = prob.data64[safe]
    else:
        host_idx = safe.get() if hasattr(safe, "get") else safe
        x = xp.asarray(prob.host_data[host_idx])
    q = xp.asarray(prob.host_query[rows])
    diff = x - q[:, None, :]
    exact = xp.einsum("rcd,rcd->rc", diff, diff)
    exact[cand < 0] = xp.inf
    return exact


def finish_rows(xp, approx_sq, cand, exact_sq, k: int, bound, *, complete: bool):
    """Keep the k nearest candidates by exact distance and certify each row.

    Parameters
    ----------
    approx_sq : array of shape (r, kc)
        Ascending approximate squared distances (+inf where empty).
    cand : array of shape (r, kc), int64
    exact_sq : array of shape (r, kc), float64
    k : int
    bound : array of shape (r,)
        Error bound of the approximate distances.
    complete : bool
        Every data point was a candidate (``kc >= m``): the rows are exact as they are.

    Returns
    -------
    dist_sq : (r, k) float64, idx : (r, k) int64, ok : (r,) bool, eligible : (r,) int
    """
    order = stable_argsort_rows(xp, exact_sq)[:, :k]
    dist_sq = xp.take_along_axis(exact_sq, order, axis=1)
    idx = xp.take_along_axis(cand, order, axis=1)
    eligible = xp.count_nonzero(cand >= 0, axis=1)
    ok = eligible >= k
    if not complete:
        # the last slot is +inf when a row has fewer than kc eligible points, i.e.
        # every eligible point is already a candidate
        farthest = approx_sq[:, -1].astype(xp.float64)
        ok &= dist_sq[:, k - 1] <= farthest - bound
    return dist_sq, idx, ok, eligible


def exact_knn_tiled(xp, query: np.ndarray, data: np.ndarray, k: int, *,
                    query_labels=None, data_labels=None, extra: int = 0,
                    budget_bytes: int, make_selector: Callable[[int], Selector],
                    unit_roundoff: float = UNIT_ROUNDOFF_F32, max_cols: int = 1 << 16,
                    candidate_search=None):
    """Exact k-NN (host in, host out) computed in ``xp`` memory.

    Parameters
    ----------
    xp : module
        numpy or cupy.
    query : ndarray of shape (n, d), float64
    data : ndarray of shape (m, d), float64 (the same array for a self-search)
    k : int
    query_labels, data_labels : ndarray of shape (n,) / (m,) or None
        Equal labels are never neighbours (a self-search passes ``arange`` for both).
    extra : int
        Most candidates one query can lose to exclusion.
    budget_bytes : int
        Device bytes for resident data and working arrays.
    make_selector : callable
        ``kc -> select`` function with the signature of :func:`select_tile_xp` minus ``xp``.
    unit_roundoff : float
        Round-off unit of the GEMM (float32 or TF32).
    max_cols : int
        Cap on the tile width (tests lower it so small inputs span several tiles).
    candidate_search : callable, optional
        Replaces :func:`candidates` (same signature and result), e.g. faiss-gpu.

    Returns
    -------
    distances : ndarray (n, k) float64, indices : ndarray (n, k) int64,
    passes : int, plan : TilePlan (of the first pass)
    """
    n, d = query.shape
    m = data.shape[0]
    prob = prepare(xp, query, data, query_labels=query_labels, data_labels=data_labels,
                   budget_bytes=budget_bytes, unit_roundoff=unit_roundoff)
    resident = prob.data32.nbytes + 4 * m + (0 if prob.data64 is None else data.nbytes) \
        + (0 if prob.data_labels is None else 8 * m)
    work_budget = max(budget_bytes - resident, 1 << 20)
    q_centred_sq = np.einsum("ij,ij->i", query - prob.center, query - prob.center)
    bound_all = error_bound(q_centred_sq, prob.max_data_sq, d, unit_roundoff)

    search = candidates if candidate_search is None else candidate_search
    distances = np.empty((n, k), dtype=np.float64)
    indices = np.empty((n, k), dtype=np.int64)
    todo = np.arange(n, dtype=np.int64)
    kc = min(m, k + extra + candidate_margin(k))
    passes = 0
    first_plan = None
    while todo.size:
        passes += 1
        plan = plan_tiles(len(todo), m, d, kc, work_budget, max_cols=max_cols)
        first_plan = first_plan or plan
        select = make_selector(kc)
        failed = []
        for start in range(0, len(todo), plan.rows):
            rows = todo[start:start + plan.rows]
            approx_sq, cand = search(prob, rows, kc, plan, select)
            exact_sq = remeasure(prob, rows, cand)
            dist_sq, idx, ok, eligible = finish_rows(
                xp, approx_sq, cand, exact_sq, k, xp.asarray(bound_all[rows]),
                complete=kc >= m)
            ok_h = _to_host(ok)
            distances[rows[ok_h]] = np.sqrt(_to_host(dist_sq)[ok_h])
            indices[rows[ok_h]] = _to_host(idx)[ok_h]
            if kc >= m and not ok_h.all():
                i = int(np.flatnonzero(~ok_h)[0])
                raise too_few_eligible(int(rows[i]), int(_to_host(eligible)[i]), k)
            failed.append(rows[~ok_h])
        todo = np.concatenate(failed)
        kc = min(m, 4 * kc)
    return distances, indices, passes, first_plan


def _to_host(a) -> np.ndarray:
    return a.get() if hasattr(a, "get") else np.asarray(a)
