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

``grouped_knn_distances(query, query_offsets, data=None, data_offsets=None, *, k)``
does the same for many small groups stored back to back (see :mod:`.groups`).
"""

from __future__ import annotations

from .result import KnnResult
from .search import knn_distances

__all__ = ["KnnResult", "knn_distances", "grouped_knn_distances"]


def __getattr__(name: str):
    # numba is loaded only when the grouped kernel is first used
    if name == "grouped_knn_distances":
        from .groups import grouped_knn_distances

        return grouped_knn_distances
    raise AttributeError(f"module 'hpx_uncert.neighbors' has no attribute {name!r}")
