"""The paper's Example 1: a scalar Gaussian denoising problem.

``X ~ N(0, 1)``, ``Y = X + W`` with ``W ~ N(0, sigma^2)``, and estimators
``X_hat = E[X|Y] + Z`` with ``Z ~ N(0, sigma_z^2)`` independent of everything.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_or_array, check_nonnegative


def example1_posterior_variance(sigma2):
    """Posterior variance ``sigma_q^2 = sigma^2 / (1 + sigma^2) = N(X|Y)``.

    Parameters
    ----------
    sigma2 : float or array-like
        Noise variance ``sigma^2`` > 0.

    Returns
    -------
    float or ndarray
        ``sigma_q^2`` (squared signal units); also the inherent uncertainty.
    """
    s = _check_noise(sigma2)
    return as_float_or_array(s / (1.0 + s))


def example1_perception(sigma_z2, sigma2):
    """Example 1's perception index ``(sigma_q^2 + sigma_z^2) / (2 sigma_q sigma_z) - 1``.

    The paper calls this the symmetric KL divergence; it is in fact
    ``exp(D_1/2) - 1`` between ``N(m, sigma_q^2)`` and ``N(m, sigma_z^2)``
    (``D_1/2`` = twice the Bhattacharyya distance), hence the name.

    Parameters
    ----------
    sigma_z2 : float or array-like
        Variance ``sigma_z^2 >= 0`` of the added noise (0: the MMSE estimator,
        index ``inf``).
    sigma2 : float or array-like
        Measurement noise variance ``sigma^2 > 0``.

    Returns
    -------
    float or ndarray
        ``exp(D_1/2) - 1`` (dimensionless, >= 0).
    """
    sz = check_nonnegative(sigma_z2, "sigma_z2", allow_inf=False)
    sq = np.asarray(example1_posterior_variance(sigma2))
    with np.errstate(divide="ignore"):
        return as_float_or_array((sq + sz) / (2.0 * np.sqrt(sq * sz)) - 1.0)


def example1_uncertainty(P, sigma2):
    """Example 1's uncertainty-perception function ``U(P)``.

    ``U(P) = sigma_q^2 [1 + (P + 1 - sqrt((P + 1)^2 - 1))^2]``, computed as
    ``sigma_q^2 [1 + 1 / (P + 1 + sqrt(P (P + 2)))^2]`` (no cancellation at
    large ``P``). It equals ``eta(log(1 + P); 1) * sigma_q^2`` (Theorem 3 at
    ``d = 1``).

    Parameters
    ----------
    P : float or array-like
        Perception index ``exp(D_1/2) - 1`` >= 0 (see :func:`example1_perception`).
    sigma2 : float or array-like
        Measurement noise variance ``sigma^2 > 0``.

    Returns
    -------
    float or ndarray
        Minimal uncertainty ``N(X_hat - X | Y)`` (squared signal units): from
        ``2 sigma_q^2`` at ``P = 0`` down to ``sigma_q^2`` as ``P -> inf``.
    """
    P = check_nonnegative(P, "P")
    sq = np.asarray(example1_posterior_variance(sigma2))
    with np.errstate(over="ignore", invalid="ignore"):
        root = P + 1.0 + np.sqrt(P * (P + 2.0))
    return as_float_or_array(sq * (1.0 + 1.0 / (root * root)))


def _check_noise(sigma2) -> np.ndarray:
    s = np.asarray(sigma2, dtype=np.float64)
    if np.any(~np.isfinite(s) | (s <= 0)):
        raise ValueError(f"sigma2 (the measurement noise variance) must be finite and > 0; "
                         f"got {sigma2!r}.")
    return s
