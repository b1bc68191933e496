"""Batched exact k-NN inside many small groups (Numba, CPU twin of the CUDA kernel).

Groups are stored back to back: group ``g`` of ``query`` is
``query[query_offsets[g]:query_offsets[g + 1]]``. Each query point is searched
only against its own group (a self-search, excluding the point itself by id, so
duplicates stay neighbours at distance 0) or against group ``g`` of ``data``.
One thread per query point scans its group once and keeps a sorted top-k in
float64: no distance matrix is formed, so memory is O(n_total * k).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._checks import check_k, check_offsets, check_samples, check_same_dim


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
    q = check_samples(query, "query")
    q_off = check_offsets(query_offsets, q.shape[0], "query_offsets", "query")
    q_sizes = np.diff(q_off)
    if data is None:
        if data_offsets is not None:
            raise ValueError("data_offsets was given without data; pass both for a cross "
                             "search, or neither for a search within each query group.")
        k = check_k(k, int(q_sizes.max()) + 1, "the largest group of query")
        small = np.flatnonzero((q_sizes > 0) & (q_sizes <= k))
        if small.size:
            g = int(small[0])
            raise ValueError(f"group {g} of query has {int(q_sizes[g])} point(s); a search "
                             f"within groups with k={k} needs at least {k + 1} per group "
                             f"({small.size} group(s) are smaller). Use a smaller k or merge "
                             f"small groups.")
        x, x_off, exclude_self = q, q_off, True
    else:
        if data_offsets is None:
            raise ValueError("data was given without data_offsets; pass the group "
                             "boundaries of data as well.")
        x = check_samples(data, "data")
        check_same_dim(q, x, ("query", "data"))
        x_off = check_offsets(data_offsets, x.shape[0], "data_offsets", "data")
        if x_off.shape[0] != q_off.shape[0]:
            raise ValueError(f"query_offsets and data_offsets must describe the same number "
                             f"of groups; got {q_off.shape[0] - 1} and {x_off.shape[0] - 1}.")
        x_sizes = np.diff(x_off)
        k = check_k(k, int(x_sizes.max()) + 1, "the largest group of data")
        small = np.flatnonzero((q_sizes > 0) & (x_sizes < k))
        if small.size:
            g = int(small[0])
            raise ValueError(f"group {g} of data has {int(x_sizes[g])} point(s) but k={k} "
                             f"neighbours are needed for its {int(q_sizes[g])} query point(s) "
                             f"({small.size} group(s) are too small). Use a smaller k.")
        exclude_self = False
    query_group = np.repeat(np.arange(len(q_sizes), dtype=np.int64), q_sizes)
    out = np.empty((q.shape[0], k), dtype=np.float64)
    _grouped_knn_sq(q, query_group, x, x_off, k, exclude_self, out)
    return np.sqrt(out, out=out)
