"""The linear-Gaussian inverse problem and its optimal estimator family.

``Y = A X + W`` with ``X ~ N(mu, Sigma)`` and ``W ~ N(0, Sigma_w)`` has a Gaussian
posterior whose covariance does not depend on ``y``; the estimators
``X_hat = E[X|Y] + sqrt(gamma) L xi`` trace Theorem 3's curve exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ._validate import as_float_or_array, check_dimension, check_nonnegative
from .normal import _as_cov, _as_mean, _cholesky, _logdet


@dataclass(frozen=True)
class LinearGaussianPosterior:
    """Posterior ``X | Y = y ~ N(mean(y), cov)`` of a linear-Gaussian problem.

    Attributes
    ----------
    cov : ndarray of shape (d, d)
        ``Sigma_{x|y} = (Sigma^-1 + A^T Sigma_w^-1 A)^-1``, the same for every ``y``.
    chol : ndarray of shape (d, d)
        Lower-triangular ``L`` with ``L L^T = cov``.
    gain : ndarray of shape (d, m)
        ``Sigma_{x|y} A^T Sigma_w^-1``: ``mean(y) = offset + gain @ y``.
    offset : ndarray of shape (d,)
        ``Sigma_{x|y} Sigma^-1 mu``.
    """

    cov: np.ndarray
    chol: np.ndarray
    gain: np.ndarray
    offset: np.ndarray

    @property
    def d(self) -> int:
        """Signal dimension."""
        return self.cov.shape[0]

    @property
    def entropy_power(self) -> float:
        """Inherent uncertainty ``N(X|Y) = |Sigma_{x|y}|^(1/d)`` (squared signal units)."""
        return math.exp(_logdet(self.chol) / self.d)

    def mean(self, y) -> np.ndarray:
        """Posterior mean ``E[X | Y = y]``.

        Parameters
        ----------
        y : array-like of shape (m,) or (n, m)
            One measurement or one per row.

        Returns
        -------
        ndarray of shape (d,) or (n, d)
        """
        y = np.asarray(y, dtype=np.float64)
        m = self.gain.shape[1]
        if y.shape[-1:] != (m,) or y.ndim > 2:
            raise ValueError(f"y must have shape (m,) or (n, m) with m={m}; got {y.shape}.")
        return self.offset + y @ self.gain.T

    def sample(self, y, *, n_samples: int, gamma: float = 1.0, rng=None) -> np.ndarray:
        """Draws of ``E[X|Y=y] + sqrt(gamma) L xi`` for each row of ``y``.

        ``gamma = 1`` samples the true posterior, ``gamma = 0`` returns the
        MMSE estimate repeated.

        Parameters
        ----------
        y : array-like of shape (n, m) or (m,)
            Measurements.
        n_samples : int, keyword-only
            Draws per measurement.
        gamma : float, keyword-only
            Noise scale, >= 0.
        rng : numpy.random.Generator or int or None, keyword-only
            Random source.

        Returns
        -------
        ndarray of shape (n, n_samples, d)
        """
        gamma = float(check_nonnegative(gamma, "gamma", allow_inf=False))
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
                or n_samples < 1:
            raise ValueError(f"n_samples must be an int >= 1; got {n_samples!r}.")
        mean = np.atleast_2d(self.mean(y))
        rng = np.random.default_rng(rng)
        xi = rng.standard_normal((mean.shape[0], int(n_samples), self.d))
        return mean[:, None, :] + math.sqrt(gamma) * xi @ self.chol.T


def linear_gaussian_posterior(A, cov_x, cov_w, mean_x=None) -> LinearGaussianPosterior:
    """Posterior of ``Y = A X + W``, ``X ~ N(mean_x, cov_x)``, ``W ~ N(0, cov_w)``.

    Parameters
    ----------
    A : array-like of shape (m, d)
        Forward operator.
    cov_x : array-like of shape (d, d), or float
        Prior covariance, positive definite.
    cov_w : array-like of shape (m, m), or float
        Noise covariance, positive definite.
    mean_x : array-like of shape (d,), optional
        Prior mean (zeros by default).

    Returns
    -------
    LinearGaussianPosterior
        ``cov``, ``chol``, ``entropy_power`` and ``mean(y)``.

    Examples
    --------
    >>> post = linear_gaussian_posterior([[1.0]], 1.0, 0.25)
    >>> round(float(post.cov[0, 0]), 12)   # sigma^2 / (1 + sigma^2)
    0.2
    """
    cx = _as_cov(cov_x, "cov_x")
    cw = _as_cov(cov_w, "cov_w")
    d, m = cx.shape[0], cw.shape[0]
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape != (m, d):
        raise ValueError(f"A must have shape (m, d) = ({m}, {d}) to match cov_w (m, m) and "
                         f"cov_x (d, d); got {A.shape}.")
    mu = np.zeros(d) if mean_x is None else _as_mean(mean_x, d, "mean_x")
    lx, lw = _cholesky(cx, "cov_x"), _cholesky(cw, "cov_w")
    identity = np.eye(d)
    prior_precision = linalg.cho_solve((lx, True), identity)
    noise_precision_A = linalg.cho_solve((lw, True), A)          # Sigma_w^-1 A
    precision = prior_precision + A.T @ noise_precision_A
    precision = 0.5 * (precision + precision.T)
    lp = _cholesky(precision, "the posterior precision")
    cov = linalg.cho_solve((lp, True), identity)
    cov = 0.5 * (cov + cov.T)
    chol = _cholesky(cov, "the posterior covariance")
    gain = cov @ noise_precision_A.T
    offset = cov @ linalg.cho_solve((lx, True), mu)
    return LinearGaussianPosterior(cov=cov, chol=chol, gain=gain, offset=offset)


def gamma_family_perception(gamma, d):
    """``D_1/2`` of the estimator ``N(E[X|Y], gamma Sigma_{x|y})`` from the posterior.

    ``P(gamma) = (d/2) log((1 + gamma)^2 / (4 gamma))``, in nats.

    Parameters
    ----------
    gamma : float or array-like
        Noise scale, >= 0 (0 is the MMSE estimator: ``P = inf``; 1 is
        posterior sampling: ``P = 0``).
    d : int
        Signal dimension.

    Returns
    -------
    float or ndarray
        Perception index in nats.
    """
    d = check_dimension(d)
    g = check_nonnegative(gamma, "gamma", allow_inf=False)
    with np.errstate(divide="ignore"):
        # d * log((1 + g) / (2 sqrt g)), written without the square to avoid overflow
        return as_float_or_array(d * (np.log1p(g) - math.log(2.0) - 0.5 * np.log(g)))


def gamma_family_uncertainty(gamma, n_inherent):
    """Uncertainty ``N(X_hat - X | Y) = (1 + gamma) N(X|Y)`` of the gamma family.

    Parameters
    ----------
    gamma : float or array-like
        Noise scale, >= 0.
    n_inherent : float
        ``N(X|Y)`` (squared signal units).

    Returns
    -------
    float or ndarray
        Entropy power of the error, squared signal units.
    """
    g = check_nonnegative(gamma, "gamma", allow_inf=False)
    n = check_nonnegative(n_inherent, "n_inherent", allow_inf=False)
    return as_float_or_array((1.0 + g) * n)
