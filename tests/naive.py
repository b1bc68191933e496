"""Slow, obviously-correct references that every fast path is tested against.

Plain Python loops and float64 throughout; no faiss, no numba, no cleverness.
"""

from __future__ import annotations

import math

import numpy as np


def knn_distances(query, data=None, k=1, query_labels=None, data_labels=None):
    """Sorted Euclidean distances from each query point to its k nearest data points.

    ``data=None`` searches ``query`` itself, excluding each point by its index.
    Points with equal labels are never neighbours. Returns (n, k) float64.
    """
    q = np.asarray(query, dtype=np.float64)
    self_search = data is None
    x = q if self_search else np.asarray(data, dtype=np.float64)
    if self_search:
        if query_labels is None:
            query_labels = np.arange(len(q))
        data_labels = query_labels
    out = np.empty((len(q), k))
    for i in range(len(q)):
        dists = []
        for j in range(len(x)):
            if query_labels is not None and data_labels is not None \
                    and data_labels[j] == query_labels[i]:
                continue
            dists.append(math.sqrt(sum((float(a) - float(b)) ** 2 for a, b in zip(q[i], x[j]))))
        dists.sort()
        out[i] = dists[:k]
    return out


def grouped_knn_distances(query, query_offsets, data=None, data_offsets=None, k=1):
    """k-NN distances of each point within its own group (or against group g of data).

    Loops over groups and calls :func:`knn_distances` on each. Returns (n_total, k).
    """
    q = np.asarray(query, dtype=np.float64)
    out = np.empty((len(q), k))
    for g in range(len(query_offsets) - 1):
        lo, hi = query_offsets[g], query_offsets[g + 1]
        if hi == lo:
            continue
        if data is None:
            out[lo:hi] = knn_distances(q[lo:hi], k=k)
        else:
            part = np.asarray(data, dtype=np.float64)[data_offsets[g]:data_offsets[g + 1]]
            out[lo:hi] = knn_distances(q[lo:hi], part, k=k)
    return out
