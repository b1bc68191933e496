"""Closed forms for multivariate normal distributions (theory.md section 4).

Every determinant and inverse goes through a Cholesky factor (``slogdet`` of a
triangle, triangular solves): never ``inv`` or ``det``, which over- or
underflow at ``d = 81`` and lose accuracy on ill-conditioned covariances.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg

_LOG_2PIE = math.log(2.0 * math.pi * math.e)


def _as_cov(cov, name: str) -> np.ndarray:
    arr = np.asarray(cov, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        hint = " For a diagonal covariance pass np.diag(variances)." if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a square (d, d) covariance matrix or a scalar "
                         f"variance; got shape {arr.shape}.{hint}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries.")
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    if not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12 * scale):
        raise ValueError(f"{name} must be symmetric; max |C - C^T| = "
                         f"{float(np.max(np.abs(arr - arr.T))):.3g}. Symmetrise it with "
                         f"(C + C.T) / 2 if the asymmetry is round-off.")
    return arr


def _cholesky(cov: np.ndarray, name: str) -> np.ndarray:
    """Lower Cholesky factor, or a clear error for a non positive-definite matrix."""
    try:
        return linalg.cholesky(cov, lower=True)
    except linalg.LinAlgError:
        smallest = float(np.linalg.eigvalsh(cov)[0])
        raise ValueError(f"{name} must be positive definite; its smallest eigenvalue is "
                         f"{smallest:.3g}. A singular covariance has no density (entropy "
                         f"-inf); add a small ridge, e.g. C + 1e-9 * np.eye(d).") from None


def _logdet(chol: np.ndarray) -> float:
    return 2.0 * float(np.sum(np.log(np.diag(chol))))


def _as_mean(mean, d: int, name: str) -> np.ndarray:
    arr = np.asarray(mean, dtype=np.float64).reshape(-1) if np.ndim(mean) <= 1 else None
    if arr is None or arr.shape[0] != d:
        raise ValueError(f"{name} must be a vector of length d={d} (matching the "
                         f"covariance); got shape {np.shape(mean)}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries.")
    return arr


def _pair(mean_p, cov_p, mean_q, cov_q):
    cp = _as_cov(cov_p, "cov_p")
    cq = _as_cov(cov_q, "cov_q")
    if cp.shape != cq.shape:
        raise ValueError(f"cov_p and cov_q must have the same shape; got {cp.shape} and "
                         f"{cq.shape}.")
    d = cp.shape[0]
    delta = _as_mean(mean_p, d, "mean_p") - _as_mean(mean_q, d, "mean_q")
    return cp, cq, delta


def normal_entropy(cov) -> float:
    """Differential entropy ``h = (1/2) log((2 pi e)^d |Sigma|)`` of ``N(mu, Sigma)``.

    Parameters
    ----------
    cov : array-like of shape (d, d), or float
        Positive-definite covariance (a scalar is a variance, d = 1).

    Returns
    -------
    float
        Entropy in nats.
    """
    c = _as_cov(cov, "cov")
    return 0.5 * (c.shape[0] * _LOG_2PIE + _logdet(_cholesky(c, "cov")))


def normal_entropy_power(cov) -> float:
    """Entropy power ``|Sigma|^(1/d)`` of ``N(mu, Sigma)`` (geometric mean eigenvalue).

    Parameters
    ----------
    cov : array-like of shape (d, d), or float
        Positive-definite covariance.

    Returns
    -------
    float
        Entropy power in squared signal units.
    """
    c = _as_cov(cov, "cov")
    return math.exp(_logdet(_cholesky(c, "cov")) / c.shape[0])


def normal_kl(mean_p, cov_p, mean_q, cov_q) -> float:
    """``D_KL(N(mean_p, cov_p) || N(mean_q, cov_q))`` in nats.

    ``(1/2)[tr(Sq^-1 Sp) + D^T Sq^-1 D - d + log(|Sq| / |Sp|)]``, ``D = mean_p - mean_q``.

    Parameters
    ----------
    mean_p, mean_q : array-like of shape (d,), or float
        Means.
    cov_p, cov_q : array-like of shape (d, d), or float
        Positive-definite covariances.

    Returns
    -------
    float
        KL divergence in nats, >= 0.
    """
    cp, cq, delta = _pair(mean_p, cov_p, mean_q, cov_q)
    lp, lq = _cholesky(cp, "cov_p"), _cholesky(cq, "cov_q")
    whitened = linalg.solve_triangular(lq, lp, lower=True)
    trace = float(np.sum(whitened**2))
    maha = float(np.sum(linalg.solve_triangular(lq, delta, lower=True) ** 2))
    d = cp.shape[0]
    return 0.5 * (trace + maha - d + _logdet(lq) - _logdet(lp))


def normal_renyi(mean_p, cov_p, mean_q, cov_q, alpha) -> float:
    """Renyi divergence ``D_alpha(N(mean_p, cov_p) || N(mean_q, cov_q))`` in nats.

    With ``S_a = (1 - alpha) cov_p + alpha cov_q`` and ``D = mean_p - mean_q``:
    ``D_alpha = (alpha/2) D^T S_a^-1 D - log(|S_a| / (|cov_p|^(1-alpha) |cov_q|^alpha)) / (2 (alpha - 1))``.

    Parameters
    ----------
    mean_p, mean_q : array-like of shape (d,), or float
        Means.
    cov_p, cov_q : array-like of shape (d, d), or float
        Positive-definite covariances.
    alpha : float
        Order in (0, 1) or (1, inf); use :func:`normal_kl` for ``alpha = 1``.

    Returns
    -------
    float
        Divergence in nats. For ``alpha > 1`` it is ``inf`` when ``S_a`` is not
        positive definite (the integral of ``p^alpha q^(1-alpha)`` diverges).
    """
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha > 0 and alpha != 1):
        raise ValueError(f"alpha must be in (0, 1) or (1, inf); got {alpha!r}. "
                         f"For alpha = 1 use normal_kl.")
    cp, cq, delta = _pair(mean_p, cov_p, mean_q, cov_q)
    lp, lq = _cholesky(cp, "cov_p"), _cholesky(cq, "cov_q")
    mixed = (1.0 - alpha) * cp + alpha * cq
    try:
        lm = linalg.cholesky(mixed, lower=True)
    except linalg.LinAlgError:
        # only reachable for alpha > 1: a convex combination of PD matrices is PD
        return math.inf
    maha = float(np.sum(linalg.solve_triangular(lm, delta, lower=True) ** 2))
    log_ratio = _logdet(lm) - (1.0 - alpha) * _logdet(lp) - alpha * _logdet(lq)
    return 0.5 * alpha * maha - log_ratio / (2.0 * (alpha - 1.0))


def normal_d_half(mean_p, cov_p, mean_q, cov_q) -> float:
    """``D_1/2`` between two normals: twice the Bhattacharyya distance, in nats.

    ``D_1/2 = (1/4) D^T S^-1 D + log(|S| / sqrt(|cov_p| |cov_q|))`` with
    ``S = (cov_p + cov_q) / 2``; symmetric in its arguments. The paper's
    perception index.

    Parameters
    ----------
    mean_p, mean_q : array-like of shape (d,), or float
        Means.
    cov_p, cov_q : array-like of shape (d, d), or float
        Positive-definite covariances.

    Returns
    -------
    float
        ``D_1/2`` in nats, >= 0.
    """
    cp, cq, delta = _pair(mean_p, cov_p, mean_q, cov_q)
    lp, lq = _cholesky(cp, "cov_p"), _cholesky(cq, "cov_q")
    lm = _cholesky(0.5 * (cp + cq), "(cov_p + cov_q) / 2")
    maha = float(np.sum(linalg.solve_triangular(lm, delta, lower=True) ** 2))
    return 0.25 * maha + _logdet(lm) - 0.5 * (_logdet(lp) + _logdet(lq))


def normal_hellinger2(mean_p, cov_p, mean_q, cov_q) -> float:
    """Squared Hellinger distance ``H^2 = 1 - BC = 1 - exp(-D_1/2 / 2)`` in [0, 1].

    Parameters
    ----------
    mean_p, mean_q : array-like of shape (d,), or float
        Means.
    cov_p, cov_q : array-like of shape (d, d), or float
        Positive-definite covariances.

    Returns
    -------
    float
        ``H^2`` (dimensionless).
    """
    return -math.expm1(-0.5 * normal_d_half(mean_p, cov_p, mean_q, cov_q))
