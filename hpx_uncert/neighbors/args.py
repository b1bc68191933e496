"""Argument checks shared by every neighbour search, CPU and CUDA.

Both backends must accept and refuse exactly the same inputs with the same
messages, so they validate through these functions (on the host, before any
device work). numpy only: importable where faiss or scipy are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import (check_k, check_k_at_most, check_labels, check_offsets, check_samples,
                        check_same_dim)


@dataclass(frozen=True)
class KnnArgs:
    query: np.ndarray
    data: np.ndarray
    k: int
    self_search: bool
    query_labels: np.ndarray | None
    data_labels: np.ndarray | None
    extra: int

    def label_codes(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Labels as int64 codes for device kernels; a plain self-search gets ``arange(n)``."""
        if self.query_labels is not None:
            return label_codes(self.query_labels, self.data_labels)
        if self.self_search:
            ids = np.arange(self.query.shape[0], dtype=np.int64)
            return ids, ids
        return None, None


def knn_args(query, data, k, query_labels, data_labels) -> KnnArgs:
    """Validated float64 arrays and labels (``None`` for a search without labels).

    ``extra`` is how many candidates beyond ``k`` a query can lose to exclusion:
    itself in a self-search, or every data point sharing its label.
    """
    self_search = data is None
    q = check_samples(query, "query", min_n=1)
    if self_search:
        x = q
        k = check_k(k, q.shape[0], "query")
        if data_labels is not None:
            raise ValueError("data_labels was given for a self-search (data=None); pass the "
                             "labels as query_labels only.")
    else:
        x = check_samples(data, "data", min_n=1)
        check_same_dim(q, x, ("query", "data"))
        k = check_k_at_most(k, x.shape[0], "data")
        if (query_labels is None) != (data_labels is None):
            raise ValueError("a cross search needs both query_labels and data_labels or "
                             "neither; got only "
                             f"{'query_labels' if data_labels is None else 'data_labels'}.")
    n, m = q.shape[0], x.shape[0]
    if query_labels is not None:
        q_raw = check_labels(query_labels, n, "query_labels", "query")
        d_raw = q_raw if self_search else check_labels(data_labels, m, "data_labels", "data")
        extra = largest_shared_multiplicity(q_raw, d_raw)
        return KnnArgs(q, x, k, self_search, q_raw, d_raw, extra)
    return KnnArgs(q, x, k, self_search, None, None, 1 if self_search else 0)


def label_codes(query_labels: np.ndarray, data_labels: np.ndarray):
    """Both label arrays as int64 codes, equal labels -> equal codes.

    The device kernels compare 64-bit integers; other label types (strings, floats)
    are mapped to shared integer codes first.
    """
    if all(np.issubdtype(a.dtype, np.integer) or a.dtype == bool
           for a in (query_labels, data_labels)):
        return (np.ascontiguousarray(query_labels, dtype=np.int64),
                np.ascontiguousarray(data_labels, dtype=np.int64))
    try:
        codes = np.unique(np.concatenate([query_labels, data_labels]),
                          return_inverse=True)[1].astype(np.int64)
    except TypeError:
        raise ValueError(f"labels must be integers or sortable values such as strings; got "
                         f"dtypes {query_labels.dtype} and {data_labels.dtype}.") from None
    return codes[:len(query_labels)], codes[len(query_labels):]


def largest_shared_multiplicity(query_labels: np.ndarray, data_labels: np.ndarray) -> int:
    """Most data points that carry one of the query labels (candidates a query can lose)."""
    values, counts = np.unique(data_labels, return_counts=True)
    shared = np.isin(values, query_labels)
    return int(counts[shared].max()) if shared.any() else 0


@dataclass(frozen=True)
class GroupArgs:
    query: np.ndarray
    query_offsets: np.ndarray
    data: np.ndarray
    data_offsets: np.ndarray
    k: int
    exclude_self: bool


def group_args(query, query_offsets, data, data_offsets, k) -> GroupArgs:
    """Validated arrays and offsets of a grouped search (rules of the CPU version)."""
    q = check_samples(query, "query")
    q_off = check_offsets(query_offsets, q.shape[0], "query_offsets", "query")
    q_sizes = np.diff(q_off)
    if data is None:
        if data_offsets is not None:
            raise ValueError("data_offsets was given without data; pass both for a cross "
                             "search, or neither for a search within each query group.")
        k = check_k(k, int(q_sizes.max()) + 1, "the largest group of query")
        small = np.flatnonzero((q_sizes > 0) & (q_sizes <= k))
        if small.size:
            g = int(small[0])
            raise ValueError(f"group {g} of query has {int(q_sizes[g])} point(s); a search "
                             f"within groups with k={k} needs at least {k + 1} per group "
                             f"({small.size} group(s) are smaller). Use a smaller k or merge "
                             f"small groups.")
        return GroupArgs(q, q_off, q, q_off, k, True)
    if data_offsets is None:
        raise ValueError("data was given without data_offsets; pass the group "
                         "boundaries of data as well.")
    x = check_samples(data, "data")
    check_same_dim(q, x, ("query", "data"))
    x_off = check_offsets(data_offsets, x.shape[0], "data_offsets", "data")
    if x_off.shape[0] != q_off.shape[0]:
        raise ValueError(f"query_offsets and data_offsets must describe the same number "
                         f"of groups; got {q_off.shape[0] - 1} and {x_off.shape[0] - 1}.")
    x_sizes = np.diff(x_off)
    k = check_k(k, int(x_sizes.max()) + 1, "the largest group of data")
    small = np.flatnonzero((q_sizes > 0) & (x_sizes < k))
    if small.size:
        g = int(small[0])
        raise ValueError(f"group {g} of data has {int(x_sizes[g])} point(s) but k={k} "
                         f"neighbours are needed for its {int(q_sizes[g])} query point(s) "
                         f"({small.size} group(s) are too small). Use a smaller k.")
    return GroupArgs(q, q_off, x, x_off, k, False)


def too_few_eligible(row: int, eligible: int, k: int) -> ValueError:
    """The error for a query with fewer than ``k`` points of other labels (CPU and CUDA)."""
    return ValueError(f"query point {row} has only {eligible} eligible neighbour(s) (data "
                      f"points with a different label) but k={k} are needed. Use a smaller "
                      f"k, or labels that leave at least k points of other labels for every "
                      f"query.")
