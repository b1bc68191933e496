"""Float64 squared distances between query points and their candidate neighbours.

A Numba kernel rather than numpy gather-and-einsum: the gather materialises an
(r, kc, d) array per chunk and ran at ~30 % of the whole self-search time at
d = 81 (benchmarks/NOTES.md, "Re-measure"); the kernel reads each candidate row
once, in place, on every core.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# reassociation lets the d-term sum vectorise; no assumption about NaN or inf
_VECTORISE = {"contract", "reassoc", "arcp", "nsz"}


@njit(parallel=True, fastmath=_VECTORISE, cache=True)
def _sq_distances(query, data, rows, cand, out):
    r, kc = cand.shape
    d = query.shape[1]
    for a in prange(r):
        i = rows[a]
        for s in range(kc):
            j = cand[a, s]
            if j < 0:
                out[a, s] = np.inf
                continue
            v = 0.0
            for c in range(d):
                u = query[i, c] - data[j, c]
                v += u * u
            out[a, s] = v


def remeasure_sq(query: np.ndarray, data: np.ndarray, rows: np.ndarray,
                 cand: np.ndarray) -> np.ndarray:
    """Squared distances (r, kc) float64 between ``query[rows]`` and ``data[cand]``.

    Parameters
    ----------
    query : ndarray of shape (n, d), float64
    data : ndarray of shape (m, d), float64
    rows : ndarray of shape (r,), int
        Query rows.
    cand : ndarray of shape (r, kc), int
        Candidate indices into ``data``; ``-1`` (no candidate) gives ``+inf``.
    """
    out = np.empty(cand.shape, dtype=np.float64)
    _sq_distances(np.ascontiguousarray(query, dtype=np.float64),
                  np.ascontiguousarray(data, dtype=np.float64),
                  np.ascontiguousarray(rows, dtype=np.int64),
                  np.ascontiguousarray(cand, dtype=np.int64), out)
    return out
