"""Standard errors: block jackknife for the k-NN estimators, spread for groups.

The points of each sample are split into ``B`` interleaved blocks (``i mod B``,
so sorted input does not bias the split). Leaving block b out of every sample
at once, the estimator is recomputed on the remaining points, *with their
neighbours recomputed*: each point's k-th neighbour among the remaining points
is read from a list of ``k + extra`` candidates found by the one full search
(``Candidates.log_radii_without``), so a leave-out costs O(n (k + extra)), not
a new search. The standard error is ``sqrt((B-1)/B * sum_b (theta_b - mean)^2)``.
For divergences this captures the variability of both samples, p and q.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

#: spare candidates searched beyond k, so that leaving a block out rarely exhausts them
JACKKNIFE_EXTRA = 3


def block_ids(n: int, n_blocks: int) -> np.ndarray:
    """Interleaved block id ``i mod B`` of each of n points (B = min(n_blocks, n))."""
    return np.arange(n) % min(n_blocks, n)


def block_jackknife(theta: Callable[[int], float], n_blocks: int) -> tuple[float, str]:
    """Jackknife standard error from the leave-block-b-out estimates ``theta(b)``.

    Returns ``(stderr, stderr_method)``.
    """
    if n_blocks < 2:
        return math.nan, "none (fewer than 2 blocks)"
    thetas = np.array([theta(b) for b in range(n_blocks)])
    return _spread(thetas), (f"block jackknife ({n_blocks} blocks, neighbours recomputed)")


def _spread(thetas: np.ndarray) -> float:
    b = len(thetas)
    if b < 2 or not np.all(np.isfinite(thetas)):
        return math.nan
    return float(math.sqrt((b - 1) / b * np.sum((thetas - thetas.mean()) ** 2)))


def group_spread(values: np.ndarray) -> tuple[float, str]:
    """``std(values, ddof=1) / sqrt(G)`` for G >= 2 per-group estimates."""
    g = len(values)
    if g < 2:
        return math.nan, "none (one group)"
    return float(np.std(values, ddof=1) / math.sqrt(g)), f"between-group spread ({g} groups)"
