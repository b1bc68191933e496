"""The CUDA backend: CuPy (cuBLAS GEMM + a fused k-selection kernel) and numba.cuda.

Same contracts as the CPU path (``hpx_uncert.neighbors``), which stays the reference:

- :func:`knn_distances_cuda` (``.knn``): exact Euclidean k-NN, float32 GEMM tiles on
  the GPU, candidates re-measured in float64 and certified exact; faiss-gpu when a
  GPU-enabled faiss is installed.
- :func:`grouped_knn_distances_cuda` (``.groups``): many small groups in one launch,
  plus per-group log-radius sums and Kozachenko-Leonenko entropies on the device.

Importing this package imports neither CuPy nor numba; the availability probes
below do, on first call, and remember the answer.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util

__all__ = ["is_available", "unavailable_reason", "numba_cuda_problem", "device_count",
           "knn_distances", "grouped_knn_distances",
           "knn_distances_cuda", "grouped_knn_distances_cuda", "grouped_log_radius_sums",
           "grouped_kl_entropy"]

_LAZY = {
    "knn_distances_cuda": "hpx_uncert.backends.cuda.knn",
    "grouped_knn_distances_cuda": "hpx_uncert.backends.cuda.groups",
    "grouped_log_radius_sums": "hpx_uncert.backends.cuda.groups",
    "grouped_kl_entropy": "hpx_uncert.backends.cuda.groups",
}


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why CuPy cannot run kernels here (package, driver, device), or ``None``."""
    if importlib.util.find_spec("cupy") is None:
        return "the package cupy is not installed"
    try:
        import cupy
    except Exception as exc:  # a broken CUDA library install surfaces here
        return f"cupy failed to import ({type(exc).__name__}: {exc})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # no driver, or a driver older than the CUDA runtime
        return f"no usable CUDA driver ({type(exc).__name__}: {exc})"
    if count < 1:
        return "no CUDA device is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
    return None


@functools.lru_cache(maxsize=1)
def numba_cuda_problem() -> str | None:
    """Why numba.cuda kernels cannot run here, or ``None`` (the simulator counts)."""
    if importlib.util.find_spec("numba_cuda") is None and \
            importlib.util.find_spec("numba") is None:
        return "the package numba-cuda is not installed"
    try:
        from numba import cuda
    except Exception as exc:
        return f"numba.cuda failed to import ({type(exc).__name__}: {exc})"
    try:
        if not cuda.is_available():
            return "numba.cuda sees no CUDA driver or device"
    except Exception as exc:
        return f"numba.cuda probe failed ({type(exc).__name__}: {exc})"
    return None


def is_available() -> bool:
    """True when CuPy can run on at least one visible GPU."""
    return unavailable_reason() is None


def device_count() -> int:
    """Number of visible CUDA devices (0 without a usable CuPy)."""
    if unavailable_reason() is not None:
        return 0
    import cupy

    return int(cupy.cuda.runtime.getDeviceCount())


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def knn_distances(query, data=None, *, k, query_labels=None, data_labels=None,
                  method="auto", memory_budget=None, device="cuda"):
    """Backend-interface name of :func:`.knn.knn_distances_cuda`."""
    from .knn import knn_distances_cuda

    return knn_distances_cuda(query, data, k=k, query_labels=query_labels,
                              data_labels=data_labels, method=method,
                              memory_budget=memory_budget, device=device)


def grouped_knn_distances(query, query_offsets, data=None, data_offsets=None, *, k):
    """Backend-interface name of :func:`.groups.grouped_knn_distances_cuda`."""
    from .groups import grouped_knn_distances_cuda

    return grouped_knn_distances_cuda(query, query_offsets, data, data_offsets, k=k)
