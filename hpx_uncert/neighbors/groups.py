"""Batched exact k-NN inside many small groups (Numba, CPU twin of the CUDA kernel).

Groups are stored back to back: group ``g`` of ``query`` is
``query[query_offsets[g]:query_offsets[g + 1]]``. Each query point is searched
only against its own group (a self-search, excluding the point itself by id, so
duplicates stay neighbours at distance 0) or against group ``g`` of ``data``.
One thread per query point scans its group once and keeps a sorted top-k in
float64: no distance matrix is formed, so memory is O(n_total * k). From
``GRAM_MIN_DIM`` dimensions on, the groups go through :mod:`.groups_gram` instead
(float32 inner products per group, exact float64 selection; same results).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .args import group_args
from .groups_gram import GRAM_MIN_DIM, grouped_knn_sq_gram


@njit(parallel=True, cache=True)
def _grouped_knn_sq(query, query_group, data, data_offsets, k, exclude_self, out):
    """Sorted squared distances (n_total, k) of each query point within its group."""
    n, d = query.shape
    for i in prange(n):
        g = query_group[i]
        best = np.full(k, np.inf)
        for j in range(data_offsets[g], data_offsets[g + 1]):
            if exclude_self and j == i:
                continue
            s = 0.0
            for c in range(d):
                t = query[i, c] - data[j, c]
                s += t * t
            if s < best[k - 1]:
                p = k - 1
                while p > 0 and best[p - 1] > s:
                    best[p] = best[p - 1]
                    p -= 1
                best[p] = s
        for t in range(k):
            out[i, t] = best[t]


def grouped_knn_distances(query, query_offsets, data=None, data_offsets=None, *, k):
    """Exact Euclidean k-NN distances within each of many small groups.

    Parameters
    ----------
    query : array-like of shape (n_total, d)
        All groups' points, concatenated group after group.
    query_offsets : array-like of int, shape (G + 1,)
        Group boundaries: group ``g`` is ``query[query_offsets[g]:query_offsets[g + 1]]``;
        ``query_offsets[0] == 0`` and ``query_offsets[-1] == n_total``.
    data : array-like of shape (m_total, d), optional
        Points searched, grouped the same way by ``data_offsets``. ``None``: each group
        of ``query`` is searched against itself, excluding each point by its index.
    data_offsets : array-like of int, shape (G + 1,), optional
        Group boundaries of ``data``; required with ``data``, same G as ``query_offsets``.
    k : int
        Neighbours per point. A self-search needs ``k + 1`` points in every non-empty
        group; a cross search needs ``k`` points in group ``g`` of ``data`` wherever
        group ``g`` of ``query`` is non-empty.

    Returns
    -------
    ndarray of shape (n_total, k), float64
        Ascending distances (coordinate units), accumulated in float64, row ``i``
        for ``query[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> from hpx_uncert.neighbors import grouped_knn_distances
    >>> x = np.array([[0.0], [1.0], [3.0], [10.0], [10.0]])
    >>> grouped_knn_distances(x, [0, 3, 5], k=1).ravel().tolist()
    [1.0, 1.0, 2.0, 0.0, 0.0]
    """
    args = group_args(query, query_offsets, data, data_offsets, k)
    q, q_off, x, x_off, k = (args.query, args.query_offsets, args.data, args.data_offsets,
                             args.k)
    q_sizes = np.diff(q_off)
    query_group = np.repeat(np.arange(len(q_sizes), dtype=np.int64), q_sizes)
    out = np.empty((q.shape[0], k), dtype=np.float64)
    if q.shape[1] >= GRAM_MIN_DIM:
        grouped_knn_sq_gram(q, q_off, x, x_off, k, args.exclude_self, out)
    else:
        _grouped_knn_sq(q, query_group, x, x_off, k, args.exclude_self, out)
    return np.sqrt(out, out=out)
