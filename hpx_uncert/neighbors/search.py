"""The public exact k-NN search: validate, choose a route, select exactly."""

from __future__ import annotations

from .args import knn_args
from .budget import resolve_memory_budget
from .choose import METHODS, choose_method
from .result import KnnResult
from .select import exact_knn


def knn_distances(query, data=None, *, k, query_labels=None, data_labels=None,
                  method="auto", memory_budget=None, device="cpu") -> KnnResult:
    """Exact Euclidean k nearest neighbours, with exclusion of equal labels.

    Parameters
    ----------
    query : array-like of shape (n, d)
        Points whose neighbours are wanted (a 1-D array is n points in d = 1).
    data : array-like of shape (m, d) or None
        Points searched. ``None`` searches ``query`` itself and excludes each point
        by its index, so duplicate points stay neighbours at distance 0.
    k : int
        Neighbours per query point; ``k < n`` for a self-search, ``k <= m`` otherwise.
    query_labels, data_labels : array-like of shape (n,) and (m,), optional
        Points with equal labels are never neighbours (e.g. measurement ids, so
        that a pooled estimate takes neighbours only from other measurements).
        A self-search takes ``query_labels`` only. A cross search needs both or none.
    method : {"auto", "faiss", "kdtree"}
        ``"faiss"``: blocked float32 flat search (faiss-cpu), best from d ~ 10 up;
        ``"kdtree"``: scipy cKDTree, best at small d; ``"auto"`` picks by d and size
        as measured in benchmarks/NOTES.md. Every route returns the same exact
        distances.
    memory_budget : int, optional
        Bytes the search may hold in working arrays (data blocks, candidates).
        Default: ``HPX_UNCERT_MEMORY_BUDGET`` from the environment, else 2 GiB.
    device : {"cpu", "auto", "cuda", "cuda:<i>"}
        ``"cpu"`` searches here. Anything else is resolved by
        :func:`hpx_uncert.backends.resolve_device` and, when it names a GPU, handed
        to :func:`hpx_uncert.backends.cuda.knn_distances_cuda` (same contract; its
        ``method`` values are ``"auto"``, ``"cupy"``, ``"faiss-gpu"`` and
        ``memory_budget`` counts device bytes). ``"auto"`` falls back to the CPU.

    Returns
    -------
    KnnResult
        ``distances`` (n, k) float64 ascending, in coordinate units, recomputed in
        float64 from the original coordinates; ``indices`` (n, k) int64 into
        ``data``; ``method`` naming the route, e.g. ``"faiss-flat[4 blocks]"``.

    Raises
    ------
    ValueError
        Bad shapes, NaN/inf, ``k`` out of range, unknown ``method`` or ``device``, or
        a query left with fewer than ``k`` points of other labels.
    hpx_uncert.backends.BackendUnavailableError
        ``device="cuda..."`` on a machine where CUDA is not usable.

    Examples
    --------
    >>> import numpy as np
    >>> from hpx_uncert.neighbors import knn_distances
    >>> x = np.array([[0.0], [1.0], [1.0], [3.0]])
    >>> knn_distances(x, k=1).distances.ravel().tolist()
    [1.0, 0.0, 0.0, 2.0]
    """
    if device != "cpu":
        from ..backends import resolve_device

        spec = resolve_device(device)
        if spec.kind == "cuda":
            from ..backends.cuda import knn_distances_cuda

            return knn_distances_cuda(query, data, k=k, query_labels=query_labels,
                                      data_labels=data_labels, method=method,
                                      memory_budget=memory_budget, device=str(spec))
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; "
                         f"got {method!r}.")
    args = knn_args(query, data, k, query_labels, data_labels)
    budget = resolve_memory_budget(memory_budget)
    q, x, k, self_search = args.query, args.data, args.k, args.self_search
    n, d = q.shape
    m = x.shape[0]
    q_lab, d_lab, extra = args.query_labels, args.data_labels, args.extra

    route = choose_method(n, m, d) if method == "auto" else method
    if route == "kdtree":
        from .kdtree import KdTreeSearch

        search = KdTreeSearch(q, None if self_search else x)
    else:
        from .faiss_flat import FaissFlatSearch

        search = FaissFlatSearch(q, None if self_search else x, memory_budget=budget)
    distances, indices, passes = exact_knn(
        q, x, k, search, query_labels=q_lab, data_labels=d_lab, self_search=self_search,
        extra=extra, memory_budget=budget)
    return KnnResult(distances, indices, search.name)

