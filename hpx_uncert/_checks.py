"""Input validation shared by every public function.

Messages follow one pattern: what was expected, what arrived, how to fix it.
Tests pin them, so change them deliberately.
"""

from __future__ import annotations

import numbers
import re
from typing import Sequence

import numpy as np


def check_samples(x, name: str = "x", *, min_n: int = 1, dtype=np.float64) -> np.ndarray:
    """Return ``x`` as a C-contiguous 2-D float array of shape (n, d).

    A 1-D array is read as ``n`` scalar samples (d = 1).
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array of shape (n_samples, n_features); "
                        f"got dtype {arr.dtype}.")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_samples, n_features); got an array with "
                         f"ndim={arr.ndim} and shape {arr.shape}. Reshape it, e.g. "
                         f"{name}.reshape(len({name}), -1).")
    n, d = arr.shape
    if d < 1:
        raise ValueError(f"{name} has no features (shape {arr.shape}).")
    if n < min_n:
        raise ValueError(f"{name} needs at least {min_n} samples; got {n}.")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        i, j = bad[0]
        raise ValueError(f"{name} contains {len(bad)} NaN or infinite value(s), first at "
                         f"sample {i}, feature {j}. Remove or repair them before estimating.")
    return arr


def check_k(k, n: int, name: str = "x", *, param: str = "k") -> int:
    """``k`` must be an int with ``1 <= k < n`` (a point is not its own neighbour)."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"The '{param}' parameter must be an int in the range [1, inf). "
                         f"Got {k!r} instead.")
    if k >= n:
        raise ValueError(f"The '{param}' parameter must be smaller than the number of samples "
                         f"in {name} ({n}); got {param}={k}. Use a smaller {param} or more samples.")
    return int(k)


def check_same_dim(p: np.ndarray, q: np.ndarray, names: Sequence[str] = ("p", "q")) -> int:
    if p.shape[1] != q.shape[1]:
        raise ValueError(f"{names[0]} and {names[1]} must have the same number of features; "
                         f"got d={p.shape[1]} and d={q.shape[1]}.")
    return p.shape[1]


def check_groups(groups, name: str = "x", *, min_size: int = 1) -> list[np.ndarray]:
    """Grouped samples: a (G, M, d) array or a sequence of (M_g, d) arrays.

    Returns a list of (M_g, d) float64 arrays, all with the same d.
    """
    if isinstance(groups, np.ndarray) or (hasattr(groups, "shape") and hasattr(groups, "ndim")):
        arr = np.asarray(groups)
        if arr.ndim != 3:
            raise ValueError(f"{name} must be a (G, M, d) array or a list of (M_g, d) arrays; "
                             f"got an array of shape {arr.shape}.")
        items = [arr[g] for g in range(arr.shape[0])]
    else:
        items = list(groups)
    if len(items) == 0:
        raise ValueError(f"{name} holds no groups; pass at least one group of samples.")
    out = []
    d = None
    for g, item in enumerate(items):
        a = np.asarray(item)
        if a.ndim == 2 and a.shape[0] == 0:
            raise ValueError(f"group {g} of {name} is empty; every group needs at least "
                             f"{min_size} samples.")
        a = check_samples(a, f"group {g} of {name}", min_n=min_size)
        if d is None:
            d = a.shape[1]
        elif a.shape[1] != d:
            raise ValueError(f"group {g} of {name} has d={a.shape[1]} but group 0 has d={d}; "
                             f"all groups must share the dimension.")
        out.append(a)
    return out


def check_k_at_most(k, m: int, name: str = "data", *, param: str = "k") -> int:
    """``k`` must be an int with ``1 <= k <= m`` (neighbours taken from another set)."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"The '{param}' parameter must be an int in the range [1, inf). "
                         f"Got {k!r} instead.")
    if k > m:
        raise ValueError(f"The '{param}' parameter must not exceed the number of samples "
                         f"in {name} ({m}); got {param}={k}. Use a smaller {param} or more "
                         f"samples.")
    return int(k)


def check_labels(labels, n: int, name: str = "labels", samples: str = "x") -> np.ndarray:
    """One label per sample: a 1-D array of length ``n``."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must hold one label per sample of {samples}, shape ({n},); "
                         f"got shape {arr.shape}.")
    return arr


def check_offsets(offsets, n: int, name: str = "offsets", samples: str = "x") -> np.ndarray:
    """Group boundaries (G + 1,) int64: start at 0, never decrease, end at ``n``."""
    arr = np.asarray(offsets)
    if arr.ndim != 1 or arr.shape[0] < 2 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer array of group boundaries "
                         f"(G + 1 values, 0 first, {n} last); got dtype {arr.dtype}, "
                         f"shape {arr.shape}.")
    arr = arr.astype(np.int64)
    if arr[0] != 0 or arr[-1] != n or np.any(np.diff(arr) < 0):
        raise ValueError(f"{name} must start at 0, never decrease and end at the number of "
                         f"samples in {samples} ({n}); got first={arr[0]}, last={arr[-1]}"
                         f"{', and a decrease' if np.any(np.diff(arr) < 0) else ''}.")
    return arr


_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20,
          "mib": 2**20, "g": 2**30, "gb": 2**30, "gib": 2**30}


def parse_memory_budget(budget, *, default: int = 256 * 2**20) -> int:
    """Bytes from an int, a float or a string such as ``"512MB"`` / ``"2GiB"``.

    Units are binary (``MB`` = ``MiB`` = 2**20 bytes). ``None`` gives ``default``.
    """
    if budget is None:
        return int(default)
    if isinstance(budget, bool):
        raise ValueError(f"memory_budget must be a number of bytes or a string like '512MB'; "
                         f"got {budget!r}.")
    if isinstance(budget, (int, float)):
        value = float(budget)
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(budget))
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"memory_budget must be a number of bytes or a string like "
                             f"'512MB' or '2GiB'; got {budget!r}.")
        value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if value < 1:
        raise ValueError(f"memory_budget must be positive; got {budget!r}.")
    return int(value)
