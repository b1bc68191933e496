"""The CPU backend: the reference implementations, under the backend interface.

Same function names as :mod:`hpx_uncert.backends.cuda` so that callers pick a
module by device and call it the same way.
"""

from __future__ import annotations


def is_available() -> bool:
    """The CPU backend is always usable."""
    return True


def knn_distances(query, data=None, *, k, query_labels=None, data_labels=None,
                  method="auto", memory_budget=None):
    """Exact k-NN on the CPU; see :func:`hpx_uncert.neighbors.knn_distances`."""
    from hpx_uncert.neighbors import knn_distances as cpu_knn

    return cpu_knn(query, data, k=k, query_labels=query_labels, data_labels=data_labels,
                   method=method, memory_budget=memory_budget, device="cpu")


def grouped_knn_distances(query, query_offsets, data=None, data_offsets=None, *, k):
    """k-NN within many small groups on the CPU; see ``hpx_uncert.neighbors``."""
    from hpx_uncert.neighbors import grouped_knn_distances as cpu_grouped

    return cpu_grouped(query, query_offsets, data, data_offsets, k=k)
