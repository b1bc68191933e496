"""Argument checks shared by the closed forms in ``hpx_uncert.theory``.

Messages follow the package pattern (what was expected, what arrived, how to
fix it); tests pin them.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_dimension(d, name: str = "d") -> int:
    """``d`` must be a positive int (the dimension of the signal)."""
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
        raise ValueError(f"The '{name}' parameter must be an int in the range [1, inf) "
                         f"(the signal dimension). Got {d!r} instead.")
    return int(d)


def check_nonnegative(x, name: str, *, allow_inf: bool = True) -> np.ndarray:
    """Float array of values >= 0 (``+inf`` allowed unless ``allow_inf=False``)."""
    arr = np.asarray(x, dtype=np.float64)
    bad = np.isnan(arr) | (arr < 0)
    if not allow_inf:
        bad |= np.isinf(arr)
    if np.any(bad):
        first = float(arr.ravel()[np.flatnonzero(bad.ravel())[0]])
        kind = "finite and >= 0" if not allow_inf else ">= 0 (inf allowed)"
        raise ValueError(f"{name} must be {kind}; got {first!r}. "
                         f"Check the value passed as '{name}'.")
    return arr


def check_unit_interval(x, name: str) -> np.ndarray:
    """Float array with values in [0, 1] (a squared Hellinger distance)."""
    arr = np.asarray(x, dtype=np.float64)
    bad = np.isnan(arr) | (arr < 0) | (arr > 1)
    if np.any(bad):
        first = float(arr.ravel()[np.flatnonzero(bad.ravel())[0]])
        raise ValueError(f"{name} must lie in [0, 1] (a squared Hellinger distance); "
                         f"got {first!r}.")
    return arr


def check_stderr(x, name: str) -> float:
    """A standard error: a finite float >= 0 (``None`` reads as 0)."""
    if x is None:
        return 0.0
    value = float(x)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite standard error >= 0; got {x!r}. "
                         f"Pass 0 when the value is exact.")
    return value


def as_float_or_array(x: np.ndarray):
    """Return a Python float for 0-d results, the array otherwise."""
    return float(x) if np.ndim(x) == 0 else x
