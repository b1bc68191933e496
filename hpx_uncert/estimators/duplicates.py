"""The duplicates policy: what a zero k-NN radius (``log 0 = -inf``) does.

Duplicate samples (repeated draws, quantised 8-bit images) give a point a zero
distance to its k-th neighbour, and the k-NN estimators then take ``log 0``.
hpx_uncert never clamps or jitters silently. Two policies:

``duplicates="raise"`` (default)
    ``ValueError`` stating how many points have a zero radius, with the fixes.
``duplicates="drop"``
    Those points' terms are left out of the average (their neighbours are still
    searched among all samples, and the sample sizes in the constants, e.g.
    ``psi(N)``, stay the full sizes). The count is reported in
    ``Estimate.details["zero_radii"]``.

Dequantising is the principled fix for quantised data: for values on a grid of
step ``delta``, adding independent ``U[0, delta)`` noise per coordinate gives a
continuous variable whose entropy is the discrete entropy plus ``d log delta``.
"""

from __future__ import annotations

import numpy as np


def zero_radius_mask(*log_radii: np.ndarray) -> np.ndarray:
    """True where any of the given per-point log radii is ``-inf`` (a zero radius)."""
    mask = np.zeros(len(log_radii[0]), dtype=bool)
    for lr in log_radii:
        mask |= np.isneginf(lr)
    return mask


def apply_duplicates_policy(zero: np.ndarray, policy: str, *, name: str) -> np.ndarray:
    """Return the boolean mask of points whose terms enter the estimate.

    Parameters
    ----------
    zero : ndarray of bool, shape (n,)
        True for points with a zero k-NN radius.
    policy : {"raise", "drop"}
    name : str
        How to call the sample in messages, e.g. ``"x"`` or ``"p (against q)"``.
    """
    count = int(zero.sum())
    n = len(zero)
    if count == 0:
        return ~zero
    if policy == "raise":
        raise ValueError(
            f"{count} of {n} points of {name} have a zero k-th neighbour distance "
            f"(duplicate samples), so the estimator would take log(0) = -inf. Pass "
            f"duplicates='drop' to leave those points out (the count is reported in "
            f"Estimate.details['zero_radii']), or dequantise the data first, e.g. add "
            f"uniform noise of one quantisation step (which adds d*log(step) to the entropy).")
    if count == n:
        raise ValueError(f"all {n} points of {name} have a zero k-th neighbour distance; "
                         f"nothing is left after duplicates='drop'. Dequantise the data or "
                         f"use a larger k.")
    return ~zero
