"""The value every neighbour search returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KnnResult:
    """Exact k nearest neighbours of each query point.

    Parameters
    ----------
    distances : ndarray of shape (n_query, k), float64
        Euclidean distances in the units of the coordinates, ascending along each
        row, recomputed in float64 from the original coordinates.
    indices : ndarray of shape (n_query, k), int64
        Row numbers into ``data`` (into ``query`` for a self-search). Among
        neighbours at exactly equal distance the order is unspecified.
    method : str
        The search that produced them, e.g. ``"faiss-flat[4 blocks]"`` or ``"kdtree"``.
    """

    distances: np.ndarray
    indices: np.ndarray
    method: str
