"""Exact selection on top of an approximate candidate search.

A fast search (float32 GEMM in faiss, or a kd-tree) proposes ``kc >= k``
candidates per query together with a bound on how wrong its squared distances
can be. Candidates sharing the query's label are dropped, the nearest few of the
rest are re-measured in float64 from the original coordinates, and the k
smallest are kept. The result is provably the exact k-NN set when the k-th
re-measured squared distance does not exceed the smallest approximate distance
of any point left out (not fetched, or fetched but not re-measured) minus the
error bound: no such point can then be nearer. Rows that fail that test (near
ties, heavy label multiplicity) are searched again with four times as many
candidates, until every data point is a candidate, which is exact by construction.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .args import too_few_eligible
from .budget import rows_within

def candidate_margin(k: int) -> int:
    """Extra candidates fetched beyond what the labels require.

    A few spare candidates make near ties at the k-th neighbour rarely need a
    second, wider pass.
    """
    return 4 + k // 4


class CandidateSearch(Protocol):
    """What :func:`exact_knn` needs from a fast search over fixed ``query``/``data``."""

    name: str

    def candidates(self, rows: np.ndarray, kc: int) -> tuple[np.ndarray, np.ndarray]:
        """Approximate squared distances (r, kc) float64 and data indices (r, kc) int64.

        Missing candidates carry index -1 and distance +inf; the set returned must be
        the kc nearest under the search's own (approximate) arithmetic.
        """

    def error_bound(self, rows: np.ndarray) -> np.ndarray:
        """(r,) upper bound on |approximate - exact| squared distance for those queries."""


def exact_knn(query: np.ndarray, data: np.ndarray, k: int, search: CandidateSearch, *,
              query_labels=None, data_labels=None, self_search: bool = False,
              extra: int = 0, memory_budget: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Exact k-NN from candidates of ``search``, with label exclusion.

    Parameters
    ----------
    query : ndarray of shape (n, d), float64
    data : ndarray of shape (m, d), float64
        Original coordinates; for a self-search the same array as ``query``.
    k : int
        Neighbours per query.
    search : CandidateSearch
        Fast candidate generator over ``query``/``data``.
    query_labels, data_labels : ndarray of shape (n,) and (m,) or None
        Points with equal labels are never neighbours.
    self_search : bool
        Exclude each query's own row (exclusion by id) when no labels are given.
    extra : int
        Most candidates a query can lose to exclusion (1 for exclusion by id, the
        largest label multiplicity in ``data`` otherwise).
    memory_budget : int
        Bytes for working arrays.

    Returns
    -------
    distances : ndarray of shape (n, k), float64, ascending
    indices : ndarray of shape (n, k), int64
    passes : int
        Candidate passes needed (1 unless some rows had to be widened).
    """
    n, d = query.shape
    m = data.shape[0]
    distances = np.empty((n, k), dtype=np.float64)
    indices = np.empty((n, k), dtype=np.int64)
    todo = np.arange(n, dtype=np.int64)
    kc = min(m, k + extra + candidate_margin(k))
    take = min(kc, k + candidate_margin(k))
    passes = 0
    while True:
        passes += 1
        failed = []
        everything = kc >= m
        if everything:
            take = kc
        # search results, merge buffers and the float64 re-measure per row
        chunk = rows_within(memory_budget // 2, kc * 4 * 12 + take * 4 * 8 + d * 12)
        for start in range(0, len(todo), chunk):
            rows = todo[start:start + chunk]
            approx_sq, cand = search.candidates(rows, kc)
            excluded = cand < 0
            if query_labels is not None:
                excluded |= data_labels[np.maximum(cand, 0)] == query_labels[rows][:, None]
            elif self_search:
                excluded |= cand == rows[:, None]
            eligible = np.count_nonzero(~excluded, axis=1)
            # re-measure only the `take` nearest eligible candidates: with many points
            # of the query's own label among the candidates, most are dropped anyway
            key = np.where(excluded, np.inf, approx_sq)
            if take < kc:
                part = np.argpartition(key, take, axis=1)
                kept = part[:, :take]
                next_key = np.take_along_axis(key, part[:, take:take + 1], axis=1)[:, 0]
            else:
                kept = np.broadcast_to(np.arange(kc), key.shape)
                next_key = np.full(len(rows), np.inf)
            kept_cand = np.take_along_axis(cand, kept, axis=1)
            exact_sq = _remeasure(query, data, rows, kept_cand, memory_budget)
            exact_sq[np.take_along_axis(excluded, kept, axis=1)] = np.inf
            order = np.argsort(exact_sq, axis=1, kind="stable")[:, :k]
            chosen_sq = np.take_along_axis(exact_sq, order, axis=1)
            ok = np.isfinite(chosen_sq[:, k - 1])
            if not everything:
                # no point left out (not fetched, or fetched but not re-measured) can be
                # nearer than this, whatever the search's round-off
                farthest = np.where(cand >= 0, approx_sq, np.inf).max(axis=1)
                unseen = np.minimum(farthest, next_key) - search.error_bound(rows)
                ok &= chosen_sq[:, k - 1] <= unseen
            good = rows[ok]
            distances[good] = np.sqrt(chosen_sq[ok])
            indices[good] = np.take_along_axis(kept_cand, order, axis=1)[ok]
            failed.append(rows[~ok])
            if everything and not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise too_few_eligible(int(rows[i]), int(eligible[i]), k)
        todo = np.concatenate(failed)
        if todo.size == 0:
            return distances, indices, passes
        kc = min(m, 4 * kc)
        take = min(kc, 4 * take)


def _remeasure(query, data, rows, cand, memory_budget) -> np.ndarray:
    """Squared float64 distances between ``query[rows]`` and their candidates."""
    from .remeasure import remeasure_sq

    return remeasure_sq(query, data, rows, cand)
