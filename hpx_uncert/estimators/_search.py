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
        from ._leave_out import kth_log_radius_without

        return kth_log_radius_without(self.log_dist, self.idx, excluded, self.k)


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


def stacked(groups: list[np.ndarray]) -> np.ndarray:
    """The groups as one (sum M_g, d) array: a view when they are consecutive rows of one.

    Groups split from a (G, M, d) array are back-to-back rows of its memory; viewing
    them as one array instead of concatenating saves a copy of the whole input
    (1.7 GB for 10^4 groups of 256 at d = 81, benchmarks/NOTES.md).
    """
    first = groups[0]
    owner = first.base
    address = first.__array_interface__["data"][0]
    for g in groups:
        # one allocation (same owner), same layout, each group starting where the
        # previous one ended
        if not (owner is not None and g.base is owner and g.flags.c_contiguous
                and g.dtype == first.dtype and g.ndim == 2 and g.shape[1] == first.shape[1]
                and g.__array_interface__["data"][0] == address):
            return np.concatenate(groups)
        address += g.nbytes
    rows = sum(len(g) for g in groups)
    return np.lib.stride_tricks.as_strided(first, shape=(rows, first.shape[1]),
                                           strides=first.strides, writeable=False)


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
    q_all = stacked(query)
    q_off = offsets_of(query)
    if kernel is not None:
        if data is None:
            dist = kernel(q_all, q_off, k=k)
        else:
            dist = kernel(q_all, q_off, stacked(data), offsets_of(data), k=k)
        return _log(np.asarray(dist, dtype=np.float64)[:, k - 1]), "grouped"
    parts, method = [], ""
    for g, q in enumerate(query):
        if data is None:
            lr, method = self_log_radii(q, k, options)
        else:
            lr, method = cross_log_radii(q, data[g], k, options)
        parts.append(lr)
    return np.concatenate(parts), f"per-group {method}"
