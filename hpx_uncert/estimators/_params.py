"""Validation of the options the estimators share (beyond ``hpx_uncert._checks``)."""

from __future__ import annotations

import math
import numbers

DUPLICATE_POLICIES = ("raise", "drop")


def check_duplicates(duplicates) -> str:
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"The 'duplicates' parameter must be one of {DUPLICATE_POLICIES}; "
                         f"got {duplicates!r} instead.")
    return duplicates


def check_k_reference(k: int, m: int, name: str = "q") -> None:
    """A cross search needs ``k <= m`` points in the reference sample."""
    if k > m:
        raise ValueError(f"The 'k' parameter must not exceed the number of samples in {name} "
                         f"({m}); got k={k}. Use a smaller k or more samples.")


def check_alpha(alpha, k: float, *, kl_hint: str = "kl_divergence(p, q)") -> float:
    """Renyi order: finite, ``alpha > 0``, ``alpha != 1`` and ``k > |alpha - 1|``."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"The 'alpha' parameter must be a finite number in (0, 1) or (1, inf); "
                         f"got {alpha!r} instead.")
    alpha = float(alpha)
    if alpha == 1.0:
        raise ValueError("The 'alpha' parameter must differ from 1: alpha -> 1 is the KL "
                         f"divergence; use {kl_hint} instead.")
    if not k > abs(alpha - 1.0):
        raise ValueError(f"The Renyi estimator needs k > |alpha - 1|; got k={k} and "
                         f"alpha={alpha}. Use k >= {math.floor(abs(alpha - 1.0)) + 1} or an "
                         f"alpha closer to 1.")
    return alpha


def check_n_blocks(n_blocks) -> int:
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, numbers.Integral) or n_blocks < 2:
        raise ValueError(f"The 'n_blocks' parameter must be an int in the range [2, inf); "
                         f"got {n_blocks!r} instead.")
    return int(n_blocks)
