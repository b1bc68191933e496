"""k-th neighbour radii for the estimators, on top of ``hpx_uncert.neighbors``.

Single samples go through ``knn_distances``; many small groups through the
batched ``grouped_knn_distances`` when the neighbours package provides it, else
through one ``knn_distances`` call per group (same numbers, slower).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SearchOptions:
    """Options forwarded to ``knn_distances`` (see ``hpx_uncert.neighbors``)."""

    method: str = "auto"
    memory_budget: Any = None
    device: str = "cpu"

    def kwargs(self) -> dict:
        return {"method": self.method, "memory_budget": self.memory_budget,
                "device": self.device}


def _log(r: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(r)


@dataclass(frozen=True)
class Candidates:
    """The ``c >= k`` nearest neighbours of each query point, for leave-out recomputation.

    ``log_dist`` (n, c) ascending log distances (``-inf`` for a zero distance),
    ``idx`` (n, c) indices into the searched data, ``k`` the neighbour order.
    """

    log_dist: np.ndarray
    idx: np.ndarray
    k: int
    method: str

    @property
    def log_radii(self) -> np.ndarray:
        """``log`` of the k-th neighbour distance, shape (n,)."""
        return self.log_dist[:, self.k - 1]

    def log_radii_without(self, excluded: np.ndarray) -> np.ndarray:
        """k-th neighbour log distance once the data points flagged in ``excluded`` are gone.

        When fewer than k candidates survive, the last candidate is used (a lower
        bound on the true radius; rare with ``extra`` spare candidates and many blocks).
        """
        valid = ~excluded[self.idx]
        reached = np.cumsum(valid, axis=1) >= self.k
        col = np.where(reached.any(axis=1), reached.argmax(axis=1), self.log_dist.shape[1] - 1)
        return self.log_dist[np.arange(len(col)), col]


def self_candidates(x: np.ndarray, k: int, options: SearchOptions, *,
                    extra: int = 0) -> Candidates:
    """Nearest neighbours of every point of ``x`` among the other points (k + extra of them)."""
    from hpx_uncert.neighbors import knn_distances

    c = min(k + extra, len(x) - 1)
    res = knn_distances(x, None, k=c, **options.kwargs())
    return Candidates(_log(np.asarray(res.distances, dtype=np.float64)),
                      np.asarray(res.indices), k, res.method)


def cross_candidates(query: np.ndarray, data: np.ndarray, k: int, options: SearchOptions, *,
                     extra: int = 0) -> Candidates:
    """Nearest neighbours of every query point among ``data`` (k + extra of them)."""
    from hpx_uncert.neighbors import knn_distances

    c = min(k + extra, len(data))
    res = knn_distances(query, data, k=c, **options.kwargs())
    return Candidates(_log(np.asarray(res.distances, dtype=np.float64)),
                      np.asarray(res.indices), k, res.method)


def self_log_radii(x: np.ndarray, k: int, options: SearchOptions) -> tuple[np.ndarray, str]:
    """``log eps_k(i)`` of every point among the other points of ``x``; shape (n,)."""
    cand = self_candidates(x, k, options)
    return cand.log_radii, cand.method


def cross_log_radii(query: np.ndarray, data: np.ndarray, k: int,
                    options: SearchOptions) -> tuple[np.ndarray, str]:
    """``log nu_k(i)``: k-th neighbour distance of each query point among ``data``."""
    cand = cross_candidates(query, data, k, options)
    return cand.log_radii, cand.method


def offsets_of(groups: list[np.ndarray]) -> np.ndarray:
    """(G+1,) int64 offsets of groups stored one after another."""
    return np.concatenate(([0], np.cumsum([len(g) for g in groups]))).astype(np.int64)


def _grouped_kernel():
    try:
        from hpx_uncert.neighbors import grouped_knn_distances
    except ImportError:
        return None
    return grouped_knn_distances


def grouped_log_radii(query: list[np.ndarray], data: list[np.ndarray] | None, k: int,
                      options: SearchOptions) -> tuple[np.ndarray, str]:
    """k-th neighbour log radii for every point of every query group, concatenated.

    ``data=None``: each point among the other points of its own group; otherwise
    group g of ``query`` against group g of ``data``. Returns (sum M_g,) and the
    search method.
    """
    kernel = _grouped_kernel()
    q_all = np.concatenate(query)
    q_off = offsets_of(query)
    if kernel is not None:
        if data is None:
            dist = kernel(q_all, q_off, k=k)
        else:
            dist = kernel(q_all, q_off, np.concatenate(data), offsets_of(data), k=k)
        return _log(np.asarray(dist, dtype=np.float64)[:, k - 1]), "grouped"
    parts, method = [], ""
    for g, q in enumerate(query):
        if data is None:
            lr, method = self_log_radii(q, k, options)
        else:
            lr, method = cross_log_radii(q, data[g], k, options)
        parts.append(lr)
    return np.concatenate(parts), f"per-group {method}"
