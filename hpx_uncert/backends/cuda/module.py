"""Loading the CUDA C++ kernels of ``kernels/`` with ``cupy.RawModule``.

The sources ship inside the package as ``hpx_uncert._kernels``. Each module is
compiled once per process (NVRTC, cached on disk by CuPy across processes) with
explicit kernel names, and one lookup helper per kernel family picks the
template instantiation for a size.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

#: register-list capacities instantiated in kernels/knn_select.cu
SELECT_CAPACITIES = (8, 16, 32, 64)
SELECT_KERNEL = "select_topk_tile<{}>"


def kernel_dir() -> Path:
    """Folder holding the ``.cu``/``.cuh`` sources (inside the installed package)."""
    return Path(str(resources.files("hpx_uncert._kernels")))


def kernel_source(name: str) -> str:
    """Text of ``kernels/<name>``."""
    path = kernel_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"CUDA kernel source {name!r} is missing from {kernel_dir()}; "
                                f"the installation is incomplete, reinstall hpx_uncert.")
    return path.read_text()


@functools.lru_cache(maxsize=None)
def raw_module(name: str, kernel_names: tuple[str, ...]):
    """Compiled ``cupy.RawModule`` for ``kernels/<name>`` exposing ``kernel_names``."""
    import cupy

    return cupy.RawModule(code=kernel_source(name),
                          options=("-std=c++17", f"-I{kernel_dir()}"),
                          name_expressions=kernel_names)


def select_capacity(kc: int) -> int | None:
    """Smallest instantiated list capacity holding ``kc`` candidates, or None if none does."""
    for capacity in SELECT_CAPACITIES:
        if kc <= capacity:
            return capacity
    return None


def select_kernel(kc: int):
    """The fused tile-selection kernel able to keep ``kc`` candidates per row.

    Raises
    ------
    ValueError
        ``kc`` above the largest instantiation (callers fall back to sorting).
    """
    capacity = select_capacity(kc)
    if capacity is None:
        raise ValueError(f"the fused selection kernel keeps at most {SELECT_CAPACITIES[-1]} "
                         f"candidates per query; got kc={kc}.")
    names = tuple(SELECT_KERNEL.format(c) for c in SELECT_CAPACITIES)
    return raw_module("knn_select.cu", names).get_function(SELECT_KERNEL.format(capacity))
