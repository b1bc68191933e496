"""Exact k-NN on a CUDA device: the GPU twin of ``hpx_uncert.neighbors.knn_distances``.

Two candidate searches, one exact finish (:mod:`.tiling`):

- ``"cupy"``: float32 distance tiles by cuBLAS GEMM, merged into the running
  top-kc of every query by the fused selection kernel of ``kernels/knn_select.cu``
  (one pass over each tile, the tile never written back as distances);
- ``"faiss-gpu"``: ``faiss.knn_gpu`` brute force, used by ``method="auto"`` when a
  GPU-enabled faiss is installed. faiss is imported only then: the CUDA path runs
  where faiss is missing.

Either way the candidates are re-measured in float64 from the original coordinates
and every row is certified exact (or searched again wider), so the selected
neighbours equal the CPU path's up to ties.
"""

from __future__ import annotations

import dataclasses

import importlib.util
import logging
import os

import numpy as np

from . import config
from ...neighbors.args import knn_args
from .tiling import (UNIT_ROUNDOFF_F32, UNIT_ROUNDOFF_TF32, DeviceProblem, candidates,
                     exact_knn_tiled, select_tile_xp)

log = logging.getLogger(__name__)

METHODS = ("auto", "cupy", "faiss-gpu")
#: largest k faiss's GPU brute-force selection accepts
FAISS_GPU_MAX_K = 2048


def knn_distances_cuda(query, data=None, *, k, query_labels=None, data_labels=None,
                       method="auto", memory_budget=None, device="cuda"):
    """Exact Euclidean k nearest neighbours on a GPU, with exclusion of equal labels.

    Parameters
    ----------
    query : array-like of shape (n, d)
        Query points (any float dtype; re-measured in float64).
    data : array-like of shape (m, d), optional
        Points searched. ``None``: self-search over ``query``, each point excluded
        by its index (duplicates stay neighbours at distance 0).
    k : int
        Neighbours per query; ``k < n`` for a self-search, ``k <= m`` otherwise.
    query_labels, data_labels : array-like of shape (n,) and (m,), optional
        Points with equal labels are never neighbours. A self-search takes
        ``query_labels`` only; a cross search needs both or none.
    method : {"auto", "cupy", "faiss-gpu"}
        Candidate search. ``"auto"``: faiss-gpu when a GPU-enabled faiss is
        installed, else CuPy.
    memory_budget : int, optional
        Device bytes for resident data and working arrays. Default: 80 % of the
        free memory of the device (``cupy.cuda.Device().mem_info``).
    device : str
        ``"cuda"`` or ``"cuda:<i>"``; one call runs on one GPU (the first listed).
        Spread work over several GPUs with :func:`hpx_uncert.backends.multi_gpu.run_on_gpus`.

    Returns
    -------
    KnnResult
        ``distances`` (n, k) float64 ascending, ``indices`` (n, k) int64, ``method``
        such as ``"cuda-cupy[2 tiles]"``.

    Raises
    ------
    BackendUnavailableError
        No CuPy, driver or GPU here (the message says what to install).
    ValueError
        Invalid arguments (same rules and messages as the CPU path).

    Examples
    --------
    >>> import numpy as np
    >>> from hpx_uncert.backends.cuda import knn_distances_cuda
    >>> x = np.array([[0.0], [1.0], [1.0], [3.0]])
    >>> knn_distances_cuda(x, k=1).distances.ravel().tolist()  # doctest: +SKIP
    [1.0, 0.0, 0.0, 2.0]
    """
    from .. import resolve_device

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; "
                         f"got {method!r}.")
    args = knn_args(query, data, k, query_labels, data_labels)
    # the device kernels compare int64 codes and exclude a point from its own
    # self-search through its id
    query_codes, data_codes = args.label_codes()
    args = dataclasses.replace(args, query_labels=query_codes, data_labels=data_codes)
    spec = resolve_device(device)
    if spec.kind != "cuda":
        raise ValueError(f"knn_distances_cuda runs on a CUDA device; got device={device!r}. "
                         f"Use hpx_uncert.neighbors.knn_distances for the CPU.")
    import cupy

    route = method
    if route == "auto":
        route = "faiss-gpu" if faiss_gpu_available() else "cupy"
        log.info("knn_distances_cuda: method='auto' chose %s on cuda:%d", route, spec.ids[0])
    with cupy.cuda.Device(spec.ids[0]):
        budget = device_budget(memory_budget)
        if route == "faiss-gpu":
            distances, indices, passes, tiles = _search_faiss_gpu(args, budget, spec.ids[0])
            name = "cuda-faiss-gpu"
        else:
            distances, indices, passes, tiles = _search_cupy(args, budget)
            name = f"cuda-cupy[{tiles} tiles]" if tiles > 1 else "cuda-cupy"
    if passes > 1:
        name += f"[{passes} passes]"
    return _knn_result(distances, indices, name)


def device_budget(memory_budget=None) -> int:
    """Bytes a search may use on the current device."""
    import cupy

    free, _total = cupy.cuda.Device().mem_info
    default = int(config.FREE_MEMORY_SHARE * free)
    if memory_budget is None:
        return default
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float)) \
            or memory_budget <= 0:
        raise ValueError(f"memory_budget must be a positive number of bytes; "
                         f"got {memory_budget!r}.")
    return int(min(memory_budget, free))


def gemm_unit_roundoff() -> float:
    """Round-off unit of CuPy's float32 matmul in this process.

    ``CUPY_TF32=1`` lets cuBLAS round inputs to TF32 on tensor cores; the error
    bound then widens accordingly, and the certificate keeps the result exact
    (more rows may need a second pass).
    """
    return UNIT_ROUNDOFF_TF32 if os.environ.get("CUPY_TF32", "0") == "1" else UNIT_ROUNDOFF_F32


def kernel_selector(kc: int):
    """Tile selection for ``kc`` candidates: the fused kernel, or a sort beyond its capacity."""
    import cupy

    from .module import select_capacity, select_kernel

    if select_capacity(kc) is None:
        return lambda *a: select_tile_xp(cupy, *a)
    kernel = select_kernel(kc)
    threads = 32 * config.SELECT_WARPS_PER_BLOCK
    no_labels = cupy.zeros(1, dtype=cupy.int64)

    def select(gram, query_sq, data_sq, query_labels, data_labels, col0, best_dist, best_idx):
        rows, cols = gram.shape
        use_labels = query_labels is not None and data_labels is not None
        blocks = -(-rows * 32 // threads)
        kernel((blocks,), (threads,), (
            cupy.ascontiguousarray(gram), cupy.ascontiguousarray(query_sq),
            cupy.ascontiguousarray(data_sq),
            query_labels if use_labels else no_labels,
            cupy.ascontiguousarray(data_labels) if use_labels else no_labels,
            np.int32(use_labels), np.int64(col0), np.int32(rows), np.int32(cols),
            np.int32(kc), best_dist, best_idx))

    return select


def _search_cupy(args, budget: int):
    import cupy

    distances, indices, passes, plan = exact_knn_tiled(
        cupy, args.query, args.data, args.k, query_labels=args.query_labels,
        data_labels=args.data_labels, extra=args.extra, budget_bytes=budget,
        make_selector=kernel_selector, unit_roundoff=gemm_unit_roundoff(),
        max_cols=config.MAX_TILE_COLS)
    row_blocks, col_tiles = plan.n_tiles(args.query.shape[0], args.data.shape[0])
    return distances, indices, passes, row_blocks * col_tiles


def faiss_gpu_available() -> bool:
    """True when an importable faiss has GPU support (never imports faiss otherwise)."""
    if importlib.util.find_spec("faiss") is None:
        return False
    try:
        import faiss
    except Exception:
        return False
    return hasattr(faiss, "StandardGpuResources") and hasattr(faiss, "knn_gpu") \
        and faiss.get_num_gpus() > 0


def _search_faiss_gpu(args, budget: int, device_id: int):
    """faiss brute force proposes candidates; the exact finish is the CuPy path's."""
    import cupy
    import faiss

    resources = faiss.StandardGpuResources()
    host = {}

    def faiss_candidates(prob: DeviceProblem, rows, kc, plan, select):
        if kc > FAISS_GPU_MAX_K:
            # a widened pass beyond faiss's GPU selection limit runs on our kernels
            return candidates(prob, rows, kc, plan, select)
        if "data" not in host:
            host["data"] = cupy.asnumpy(prob.data32)
        q = np.ascontiguousarray(prob.host_query[rows] - prob.center, dtype=np.float32)
        sq, idx = faiss.knn_gpu(resources, q, host["data"], kc, device=device_id)
        sq = np.where(idx >= 0, sq, np.inf).astype(np.float32)
        if prob.query_labels is not None:
            labels = cupy.asnumpy(prob.data_labels)
            idx = np.where((idx >= 0) & (labels[np.maximum(idx, 0)] ==
                                         prob.query_labels[rows][:, None]), -1, idx)
        return cupy.asarray(sq), cupy.asarray(idx.astype(np.int64))

    distances, indices, passes, _plan = exact_knn_tiled(
        cupy, args.query, args.data, args.k, query_labels=args.query_labels,
        data_labels=args.data_labels, extra=args.extra, budget_bytes=budget,
        make_selector=kernel_selector, candidate_search=faiss_candidates,
        max_cols=config.MAX_TILE_COLS)
    return distances, indices, passes, 1


def _knn_result(distances, indices, method):
    from hpx_uncert.neighbors import KnnResult

    return KnnResult(distances, indices, method)
