"""Closed-form constants of the k-NN estimators, all in the log domain."""

from __future__ import annotations

import math

from scipy.special import digamma, gammaln


def log_unit_ball_volume(d: int) -> float:
    """``log V_d`` with ``V_d = pi^(d/2) / Gamma(d/2 + 1)``, the Euclidean unit ball.

    ``gammaln`` keeps it finite for any ``d`` (``V_d`` itself underflows near d = 350).
    """
    return 0.5 * d * math.log(math.pi) - float(gammaln(0.5 * d + 1.0))


def kl_entropy_offset(n: int, k: int, d: int) -> float:
    """``psi(n) - psi(k) + log V_d``: the Kozachenko-Leonenko constant for n samples."""
    return float(digamma(n)) - float(digamma(k)) + log_unit_ball_volume(d)


def log_renyi_bias(k: int, alpha: float) -> float:
    """``log B_{k,alpha} = 2 log Gamma(k) - log Gamma(k - alpha + 1) - log Gamma(k + alpha - 1)``.

    The Poczos-Schneider correction that makes the Renyi estimator consistent;
    finite only for ``k > |alpha - 1|``.
    """
    return float(2.0 * gammaln(k) - gammaln(k - alpha + 1.0) - gammaln(k + alpha - 1.0))
