"""k-th neighbour radius once some data points are left out (jackknife inner loop).

A Numba kernel: the numpy version (gather a mask, cumulative sum, argmax, per
block) took ~11 ms per leave-out at 10^5 points and 8 candidates, i.e. ~40 % of a
whole entropy estimate at d = 4 (benchmarks/NOTES.md, "Jackknife leave-outs").
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _kth_without(log_dist, idx, excluded, k, out):
    n, c = idx.shape
    for r in prange(n):
        col = c - 1
        seen = 0
        for s in range(c):
            if not excluded[idx[r, s]]:
                seen += 1
                if seen == k:
                    col = s
                    break
        out[r] = log_dist[r, col]


def kth_log_radius_without(log_dist: np.ndarray, idx: np.ndarray, excluded: np.ndarray,
                           k: int) -> np.ndarray:
    """Per row, the log distance of the k-th candidate not flagged in ``excluded``.

    Parameters
    ----------
    log_dist : ndarray of shape (n, c), float64, ascending per row
    idx : ndarray of shape (n, c), int64
        Candidate indices into the searched data.
    excluded : ndarray of shape (m,), bool
        Data points left out.
    k : int

    Returns
    -------
    ndarray of shape (n,)
        The last candidate's log distance where fewer than k survive.
    """
    out = np.empty(log_dist.shape[0], dtype=np.float64)
    _kth_without(np.ascontiguousarray(log_dist, dtype=np.float64),
                 np.ascontiguousarray(idx, dtype=np.int64),
                 np.ascontiguousarray(excluded, dtype=np.bool_), int(k), out)
    return out
