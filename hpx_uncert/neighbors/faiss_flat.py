"""Blocked exact k-NN candidates from faiss-cpu's flat L2 search (float32 GEMM).

The data are split into blocks that fit the memory budget; each block is searched
with ``faiss.knn``, its ids offset, and the running top-kc merged
(the pattern of ``faiss/contrib/exhaustive_search.py``). Coordinates are centred
on the data mean before the float32 cast, which shrinks the GEMM round-off
(it grows with the squared norms, not with the distances).
"""

from __future__ import annotations

import os

import numpy as np

from .budget import rows_within

_U32 = 2.0**-24


def load_faiss():
    """Import faiss with passive OpenMP waiting.

    Under OpenMP's default spin-wait policy faiss timings jump between two levels
    on shared machines (benchmarks/NOTES.md); the policy is read once, when the
    OpenMP runtime loads, so it has to be set before the first import.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    return faiss


class FaissFlatSearch:
    """Candidate search over fixed ``query``/``data`` (see :class:`select.CandidateSearch`).

    Parameters
    ----------
    query : ndarray of shape (n, d), float64
    data : ndarray of shape (m, d), float64, or None for a self-search
    memory_budget : int
        Bytes; half of it bounds the float32 copy of one data block.
    """

    def __init__(self, query: np.ndarray, data: np.ndarray | None, *, memory_budget: int):
        self._faiss = load_faiss()
        source = query if data is None else data
        self._center = source.mean(axis=0)
        self._data = source
        self._query = query
        m, d = source.shape
        self.block_rows = rows_within(memory_budget // 2, d * 4)
        self.n_blocks = -(-m // self.block_rows)
        if self.n_blocks == 1:
            # one block: convert once and reuse across query chunks and passes
            self._blocks = [self._as_f32(source)]
        else:
            self._blocks = None
        self._query_f32 = None
        if data is None and self._blocks is not None:
            self._query_f32 = self._blocks[0]
        q_sq = np.einsum("ij,ij->i", query - self._center, query - self._center)
        x_sq_max = float(np.max(np.einsum("ij,ij->i", source - self._center,
                                          source - self._center)))
        # worst-case float32 error of |q|^2 + |x|^2 - 2 q.x with d-term sums, plus the
        # rounding of the coordinates to float32
        self._bound = (2 * d + 10) * _U32 * (q_sq + x_sq_max)
        self.name = "faiss-flat" if self.n_blocks == 1 else f"faiss-flat[{self.n_blocks} blocks]"

    def _as_f32(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x - self._center, dtype=np.float32)

    def error_bound(self, rows: np.ndarray) -> np.ndarray:
        return self._bound[rows]

    def candidates(self, rows: np.ndarray, kc: int) -> tuple[np.ndarray, np.ndarray]:
        if self._query_f32 is not None:
            q = self._query_f32[rows]
        else:
            q = self._as_f32(self._query[rows])
        best_sq = best_idx = None
        for b in range(self.n_blocks):
            lo = b * self.block_rows
            block = self._blocks[b] if self._blocks is not None else \
                self._as_f32(self._data[lo:lo + self.block_rows])
            kb = min(kc, block.shape[0])
            sq, idx = self._faiss.knn(q, block, kb)
            idx = np.where(idx >= 0, idx + lo, -1)
            sq = np.where(idx >= 0, sq.astype(np.float64), np.inf)
            if best_sq is None:
                best_sq, best_idx = sq, idx
            else:
                best_sq, best_idx = _merge_top(best_sq, best_idx, sq, idx, kc)
        if best_sq.shape[1] < kc:
            pad = kc - best_sq.shape[1]
            best_sq = np.pad(best_sq, ((0, 0), (0, pad)), constant_values=np.inf)
            best_idx = np.pad(best_idx, ((0, 0), (0, pad)), constant_values=-1)
        return best_sq, best_idx


def _merge_top(a_sq, a_idx, b_sq, b_idx, kc):
    """Keep the kc smallest of two candidate sets per row (order within a row is free)."""
    sq = np.concatenate([a_sq, b_sq], axis=1)
    idx = np.concatenate([a_idx, b_idx], axis=1)
    if sq.shape[1] <= kc:
        return sq, idx
    part = np.argpartition(sq, kc - 1, axis=1)[:, :kc]
    return np.take_along_axis(sq, part, axis=1), np.take_along_axis(idx, part, axis=1)
