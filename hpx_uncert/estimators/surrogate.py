"""Gaussian surrogates: the k-NN bias measured where the truth is known.

A surrogate is a seeded Gaussian sample of the same size and dimension as the
data, with the data's mean and covariance (one Gaussian per sample for a
divergence). The same estimator with the same settings is run on it and
compared with the closed form of ``hpx_uncert.theory.normal``; the difference,
averaged over a few independent surrogates, is the estimator's bias on that
Gaussian. Its Monte Carlo error is ``sqrt(sum_r se_r^2) / R`` from the R
surrogate estimates' own standard errors.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from hpx_uncert._estimate import Estimate

#: independent surrogates averaged per correction
SURROGATE_REPEATS = 2
#: base seed of the surrogate draws (surrogate r uses ``[SURROGATE_SEED, r]``)
SURROGATE_SEED = 20240


@dataclass(frozen=True)
class Moments:
    """Mean (d,) and covariance (d, d) of one sample, and its size."""

    mean: np.ndarray
    cov: np.ndarray
    n: int

    @classmethod
    def of(cls, x: np.ndarray) -> "Moments":
        return cls(x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False)), len(x))

    @classmethod
    def standard(cls, n: int, d: int) -> "Moments":
        return cls(np.zeros(d), np.eye(d), n)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        chol = np.linalg.cholesky(self.cov)
        return self.mean + rng.standard_normal((self.n, len(self.mean))) @ chol.T


@dataclass(frozen=True)
class SurrogateBias:
    """Mean bias over the surrogates, its Monte Carlo error and the raw estimates."""

    bias: float
    mc_error: float
    values: tuple[float, ...]
    truth: float

    def details(self, prefix: str = "surrogate") -> dict:
        return {f"{prefix}_bias": self.bias, f"{prefix}_bias_mc_error": self.mc_error,
                f"{prefix}_values": self.values, f"{prefix}_truth": self.truth,
                f"{prefix}_repeats": len(self.values)}


def gaussian_truth(result: Estimate, moments: tuple[Moments, ...]) -> float:
    """Closed form of the quantity ``result`` estimates, for Gaussians with ``moments``.

    The quantity is read from ``result.method`` (and ``details["alpha"]``): the
    Kozachenko-Leonenko entropy, the Wang-Kulkarni-Verdu KL, the Poczos-Schneider
    Renyi divergence or its squared Hellinger form.
    """
    from hpx_uncert.theory import normal

    if len(moments) == 1:
        return normal.normal_entropy(moments[0].cov)
    p, q = moments
    args = (p.mean, p.cov, q.mean, q.cov)
    if "hellinger2" in result.method:
        return normal.normal_hellinger2(*args)
    if "alpha" in result.details:
        return normal.normal_renyi(*args, result.details["alpha"])
    return normal.normal_kl(*args)


def surrogate_bias(estimate: Callable[..., Estimate], moments: tuple[Moments, ...], *,
                   repeats: int = SURROGATE_REPEATS) -> SurrogateBias:
    """Bias of ``estimate`` on ``repeats`` seeded Gaussian surrogates with ``moments``."""
    values, variances, truth = [], [], math.nan
    for r in range(repeats):
        rng = np.random.default_rng([SURROGATE_SEED, r])
        result = estimate(*(m.draw(rng) for m in moments))
        if r == 0:
            truth = gaussian_truth(result, moments)
        values.append(result.value)
        variances.append(result.stderr ** 2)
    bias = float(np.mean(values)) - truth
    return SurrogateBias(bias, math.sqrt(sum(variances)) / repeats, tuple(values), truth)


_STANDARD_CACHE: OrderedDict = OrderedDict()
_STANDARD_CACHE_SIZE = 64


def standard_entropy_bias(estimate: Callable[..., Estimate], n: int, d: int) -> SurrogateBias:
    """:func:`surrogate_bias` of an entropy estimator on ``N(0, I_d)`` samples of size n.

    It depends only on (n, d) and the estimator's settings, so it is computed once
    and reused (many groups of one size cost one surrogate run). ``estimate``
    should be a ``functools.partial``; its function and keywords form the key.
    """
    key = (getattr(estimate, "func", estimate),
           tuple(sorted((name, repr(v)) for name, v in getattr(estimate, "keywords", {}).items())),
           n, d)
    if key in _STANDARD_CACHE:
        _STANDARD_CACHE.move_to_end(key)
        return _STANDARD_CACHE[key]
    found = surrogate_bias(estimate, (Moments.standard(n, d),))
    _STANDARD_CACHE[key] = found
    if len(_STANDARD_CACHE) > _STANDARD_CACHE_SIZE:
        _STANDARD_CACHE.popitem(last=False)
    return found
