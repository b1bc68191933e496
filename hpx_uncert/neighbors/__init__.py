"""Exact k-nearest-neighbour distances (Euclidean), the work under every k-NN estimator.

Contract (every implementation, CPU or CUDA, honours it):

``knn_distances(query, data=None, *, k, query_labels=None, data_labels=None,
method="auto", memory_budget=None, device="cpu") -> KnnResult``

- ``query`` (n, d), ``data`` (m, d). ``data=None`` is a self-search over ``query``.
- Points whose labels are equal are never neighbours of each other. A self-search
  defaults to ``labels = arange(n)`` (a point is not its own neighbour: exclusion by
  id, never by dropping column 0, so duplicates stay neighbours at distance 0). Passing
  measurement ids as labels excludes every sample of the same measurement.
- ``KnnResult.distances`` (n, k) float64, ascending, recomputed in float64 from the
  original coordinates; ``KnnResult.indices`` (n, k) int64 into ``data``;
  ``KnnResult.method`` a string naming the search used.

PLACEHOLDER: this brute-force float64 version is replaced by the blocked faiss /
kd-tree / numba implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KnnResult:
    distances: np.ndarray
    indices: np.ndarray
    method: str


def knn_distances(query, data=None, *, k, query_labels=None, data_labels=None,
                  method="auto", memory_budget=None, device="cpu") -> KnnResult:
    q = np.ascontiguousarray(query, dtype=np.float64)
    self_search = data is None
    x = q if self_search else np.ascontiguousarray(data, dtype=np.float64)
    if self_search and query_labels is None:
        query_labels = np.arange(len(q))
    if self_search:
        data_labels = query_labels
    dist = np.empty((len(q), k))
    idx = np.empty((len(q), k), dtype=np.int64)
    for i in range(len(q)):
        d2 = ((x - q[i]) ** 2).sum(1)
        if query_labels is not None and data_labels is not None:
            d2[np.asarray(data_labels) == np.asarray(query_labels)[i]] = np.inf
        order = np.argsort(d2, kind="stable")[:k]
        idx[i] = order
        dist[i] = np.sqrt(d2[order])
    return KnnResult(dist, idx, "brute-placeholder")
