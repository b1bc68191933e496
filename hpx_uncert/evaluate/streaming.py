"""Mergeable accumulators: covariance moments, and k nearest distances over data blocks.

Both give the same answer whatever the order of the blocks that fed them is split
into, which is what lets work units run anywhere and merge later.
"""

from __future__ import annotations

import numpy as np


class BlockMoments:
    """Count, mean and centred scatter of vectors, kept per jackknife block.

    Vectors of measurement ``i`` (global index) go to block ``i mod n_blocks``, so
    the blocks do not depend on how the archive is sharded. Blocks combine with the
    pairwise update of Chan, Golub and LeVeque, exact in exact arithmetic and stable
    (no ``sum x x^T - n mean mean^T`` cancellation).

    Parameters
    ----------
    d : int
        Dimension of the vectors.
    n_blocks : int
        Number of jackknife blocks.
    """

    def __init__(self, d: int, n_blocks: int):
        self.count = np.zeros(n_blocks, dtype=np.float64)
        self.mean = np.zeros((n_blocks, d), dtype=np.float64)
        self.scatter = np.zeros((n_blocks, d, d), dtype=np.float64)

    def add(self, vectors: np.ndarray, measurement_index: np.ndarray) -> None:
        """Add ``vectors`` (n, d) whose measurements have global indices (n,)."""
        blocks = measurement_index % len(self.count)
        for b in np.unique(blocks):
            x = np.asarray(vectors[blocks == b], dtype=np.float64)
            mean = x.mean(axis=0)
            centred = x - mean
            self._combine(b, float(len(x)), mean, centred.T @ centred)

    def _combine(self, b, n2, mean2, scatter2):
        n1 = self.count[b]
        n = n1 + n2
        delta = mean2 - self.mean[b]
        self.scatter[b] += scatter2 + np.outer(delta, delta) * (n1 * n2 / n)
        self.mean[b] += delta * (n2 / n)
        self.count[b] = n

    def merge(self, other: "BlockMoments") -> None:
        """Fold ``other`` (same d and n_blocks) into this accumulator."""
        for b in range(len(self.count)):
            if other.count[b] > 0:
                self._combine(b, other.count[b], other.mean[b], other.scatter[b])

    def total(self, leave_out: int | None = None) -> tuple[float, np.ndarray, np.ndarray]:
        """``(n, mean, scatter)`` over all blocks, or all but block ``leave_out``."""
        acc = BlockMoments(self.mean.shape[1], 1)
        for b in range(len(self.count)):
            if b != leave_out and self.count[b] > 0:
                acc._combine(0, self.count[b], self.mean[b], self.scatter[b])
        return float(acc.count[0]), acc.mean[0], acc.scatter[0]

    def to_arrays(self, prefix: str) -> dict:
        return {f"{prefix}count": self.count, f"{prefix}mean": self.mean,
                f"{prefix}scatter": self.scatter}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> "BlockMoments":
        mean = np.asarray(arrays[f"{prefix}mean"])
        out = cls(mean.shape[1], mean.shape[0])
        out.count = np.array(arrays[f"{prefix}count"], dtype=np.float64)
        out.mean = np.array(mean, dtype=np.float64)
        out.scatter = np.array(arrays[f"{prefix}scatter"], dtype=np.float64)
        return out


class TopK:
    """The k smallest distances seen so far for each of n query points.

    Fed one data block at a time (:meth:`update`), it holds exactly what one search
    over the concatenated blocks would return: the top-k merge of blocked search.
    Rows that have met fewer than k candidates hold ``inf`` in their last columns.
    """

    def __init__(self, n: int, k: int):
        self.k = k
        self.distances = np.full((n, k), np.inf, dtype=np.float64)

    def update(self, rows: np.ndarray, block_distances: np.ndarray) -> None:
        """Merge ascending candidate distances (len(rows), k_b) into ``rows``."""
        if block_distances.shape[1] == 0 or len(rows) == 0:
            return
        both = np.concatenate([self.distances[rows], block_distances], axis=1)
        both.sort(axis=1)
        self.distances[rows] = both[:, : self.k]

    def kth(self) -> np.ndarray:
        """Distance to the k-th neighbour, shape (n,)."""
        return self.distances[:, self.k - 1]


def block_knn(query: np.ndarray, query_labels: np.ndarray, data: np.ndarray,
              data_labels: np.ndarray, *, k: int, memory_budget: int,
              device: str) -> np.ndarray:
    """Ascending distances from each query to its nearest points of one data block.

    Points with equal labels are never neighbours. Returns (n, k_b) float64 with
    ``k_b <= k``: a block too small to offer ``k`` candidates to every query gives
    what it has (``inf`` marks a missing candidate), and :class:`TopK` merges it.
    """
    n_data = len(data)
    if n_data == 0 or len(query) == 0:
        return np.empty((len(query), 0))
    shared = np.isin(data_labels, query_labels)
    # the most candidates one query can lose is the count of its own label in the block
    if shared.any():
        _, counts = np.unique(data_labels[shared], return_counts=True)
        loss = int(counts.max())
    else:
        loss = 0
    if n_data - loss >= k and n_data > k:
        from hpx_uncert.neighbors import knn_distances

        res = knn_distances(query, data, k=k, query_labels=query_labels,
                            data_labels=data_labels, memory_budget=memory_budget,
                            device=device)
        return np.asarray(res.distances, dtype=np.float64)
    # a tiny block: exact float64 distances, masked by label
    diff = np.asarray(query, np.float64)[:, None, :] - np.asarray(data, np.float64)[None]
    dist = np.sqrt(np.einsum("nmd,nmd->nm", diff, diff))
    dist[np.asarray(query_labels)[:, None] == np.asarray(data_labels)[None, :]] = np.inf
    dist.sort(axis=1)
    return dist[:, :k]
