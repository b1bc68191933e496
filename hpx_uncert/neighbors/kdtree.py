"""k-NN candidates from scipy's cKDTree: fastest at small dimension (d up to ~8).

The tree measures distances in float64 directly from coordinate differences, so
its error bound is tiny; above d ~ 10 the tree degenerates towards a slow brute
force (benchmarks/NOTES.md).
"""

from __future__ import annotations

import numpy as np

_U64 = 2.0**-53


class KdTreeSearch:
    """Candidate search over fixed ``query``/``data`` (see :class:`select.CandidateSearch`)."""

    name = "kdtree"

    def __init__(self, query: np.ndarray, data: np.ndarray | None, *, workers: int = -1):
        from scipy.spatial import cKDTree

        source = query if data is None else data
        self._query = query
        self._m = source.shape[0]
        self._tree = cKDTree(source)
        self._workers = workers
        center = source.mean(axis=0)
        d = source.shape[1]
        q_sq = np.einsum("ij,ij->i", query - center, query - center)
        x_sq_max = float(np.max(np.einsum("ij,ij->i", source - center, source - center)))
        self._bound = (2 * d + 10) * _U64 * (q_sq + x_sq_max)

    def error_bound(self, rows: np.ndarray) -> np.ndarray:
        return self._bound[rows]

    def candidates(self, rows: np.ndarray, kc: int) -> tuple[np.ndarray, np.ndarray]:
        dist, idx = self._tree.query(self._query[rows], k=kc, workers=self._workers)
        dist = np.asarray(dist, dtype=np.float64).reshape(len(rows), kc)
        idx = np.asarray(idx, dtype=np.int64).reshape(len(rows), kc)
        missing = idx >= self._m
        idx[missing] = -1
        sq = dist * dist
        sq[missing] = np.inf
        return sq, idx
