"""Standard errors: delta-block jackknife for per-point sums, spread for groups.

The k-NN estimators are smooth functions of an average of per-point terms
(``mean(d log eps_i)`` for entropy and KL, a log-mean-exp for Renyi). The
delta-block jackknife splits the points into ``B`` interleaved blocks
(``i mod B``, so sorted input does not bias it), recomputes the statistic from
the per-block aggregates with one block left out, and returns
``sqrt((B-1)/B * sum_b (theta_b - mean theta)^2)``. It costs O(n).

Caveat: the neighbours are not recomputed when a block is left out, so the
dependence between a point's term and its neighbours' is ignored; across
repeated Gaussian draws the resulting z-scores have a spread close to 1
(tested at small N, low d).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np


def _block_ids(n: int, n_blocks: int) -> tuple[np.ndarray, int]:
    blocks = min(n_blocks, n)
    return np.arange(n) % blocks, blocks


def _spread(thetas: np.ndarray) -> float:
    b = len(thetas)
    if b < 2 or not np.all(np.isfinite(thetas)):
        return math.nan
    return float(math.sqrt((b - 1) / b * np.sum((thetas - thetas.mean()) ** 2)))


def jackknife_mean(terms: np.ndarray, value_of_mean: Callable[[float], float], *,
                   n_blocks: int) -> tuple[float, str]:
    """Jackknife standard error of ``value_of_mean(mean(terms))``.

    Returns ``(stderr, stderr_method)``; ``stderr`` is nan for fewer than 2 terms.
    """
    ids, blocks = _block_ids(len(terms), n_blocks)
    sums = np.bincount(ids, weights=terms, minlength=blocks)
    counts = np.bincount(ids, minlength=blocks).astype(np.float64)
    loo_means = (sums.sum() - sums) / np.maximum(counts.sum() - counts, 1.0)
    if blocks < 2:
        return math.nan, "none (fewer than 2 terms)"
    thetas = np.array([value_of_mean(m) for m in loo_means])
    return _spread(thetas), _jackknife_label(blocks)


def jackknife_log_mean_exp(terms: np.ndarray, value_of_lme: Callable[[float], float], *,
                           n_blocks: int) -> tuple[float, str]:
    """Jackknife standard error of ``value_of_lme(log(mean(exp(terms))))``.

    Leave-one-block-out sums come from prefix and suffix log-sum-exps, never from
    ``total - block`` (which cancels catastrophically when one term dominates).
    """
    ids, blocks = _block_ids(len(terms), n_blocks)
    if blocks < 2:
        return math.nan, "none (fewer than 2 terms)"
    block_lse = np.full(blocks, -np.inf)
    np.logaddexp.at(block_lse, ids, terms)
    counts = np.bincount(ids, minlength=blocks).astype(np.float64)
    prefix = np.concatenate(([-np.inf], np.logaddexp.accumulate(block_lse)[:-1]))
    suffix = np.concatenate((np.logaddexp.accumulate(block_lse[::-1])[::-1][1:], [-np.inf]))
    loo_lme = np.logaddexp(prefix, suffix) - np.log(counts.sum() - counts)
    thetas = np.array([value_of_lme(v) for v in loo_lme])
    return _spread(thetas), _jackknife_label(blocks)


def _jackknife_label(blocks: int) -> str:
    return f"delta-block jackknife ({blocks} blocks, neighbours fixed)"


def group_spread(values: np.ndarray) -> tuple[float, str]:
    """``std(values, ddof=1) / sqrt(G)`` for G >= 2 per-group estimates."""
    g = len(values)
    if g < 2:
        return math.nan, "none (one group)"
    return float(np.std(values, ddof=1) / math.sqrt(g)), f"between-group spread ({g} groups)"
