"""Test distributions with known entropies and divergences, for benchmarks/accuracy.py.

Entropy cases (d-dimensional, seeded):

- ``gaussian``: ``N(0, S)``, ``S`` with eigenvalues log-spaced over [0.05, 5] in a
  random basis; ``h = log((2 pi e)^d |S|) / 2``.
- ``sas-mixed``: ``y = Q g(x)``, ``x ~ N(0, S)``, ``g`` the elementwise
  sinh-arcsinh map ``g(t) = sinh((asinh t + e) / delta)`` (skewed, heavy-tailed),
  ``Q`` a random rotation: ``h(y) = h(x) + sum_j E log g'(x_j)``, the expectations
  by adaptive quadrature (exact to ~1e-10).
- ``student-t``: multivariate Student-t, 4 degrees of freedom, scale ``S``
  (elliptical, heavy radial tail); closed-form entropy.
- ``laplace-rotated``: ``y = Q s`` with iid unit-variance Laplace coordinates;
  ``h = d (1 + log(2 b))``, ``b = 1/sqrt(2)``.

Divergence cases: p and q the images of ``N(0, S)`` and ``N(m, S')`` under
the same invertible map (identity for ``gaussian``, ``Q g`` for ``sas-mixed``),
so the divergences are the Gaussian closed forms (invariance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import integrate
from scipy.special import digamma, gammaln

from hpx_uncert.theory import normal

SAS_SKEW = 0.3
SAS_DELTA = 0.6
T_DOF = 4.0
LAPLACE_B = 1.0 / math.sqrt(2.0)

ENTROPY_CASES = ("gaussian", "sas-mixed", "student-t", "laplace-rotated")
DIVERGENCE_CASES = ("gaussian", "sas-mixed")


def _rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _covariance(d: int, rng: np.random.Generator) -> np.ndarray:
    eig = np.geomspace(0.05, 5.0, d) if d > 1 else np.array([1.0])
    q = _rotation(d, rng)
    return (q * eig) @ q.T


def _sas(t: np.ndarray) -> np.ndarray:
    return np.sinh((np.arcsinh(t) + SAS_SKEW) / SAS_DELTA)


def _sas_log_slope(t):
    return (np.log(np.cosh((np.arcsinh(t) + SAS_SKEW) / SAS_DELTA)) - math.log(SAS_DELTA)
            - 0.5 * np.log1p(t * t))


def _expected_log_slope(mean: float, sd: float) -> float:
    """``E log g'(X)`` for ``X ~ N(mean, sd^2)`` by adaptive quadrature."""
    def integrand(u):
        return _sas_log_slope(mean + sd * u) * math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)

    value, _ = integrate.quad(integrand, -40.0, 40.0, limit=400, epsabs=1e-12)
    return value


@dataclass(frozen=True)
class EntropyCase:
    name: str
    d: int
    truth: float
    draw: Callable[[int, np.random.Generator], np.ndarray]


def entropy_case(name: str, d: int, *, seed: int = 0) -> EntropyCase:
    rng = np.random.default_rng([seed, d, 1])
    cov = _covariance(d, rng)
    chol = np.linalg.cholesky(cov)
    rot = _rotation(d, rng)
    if name == "gaussian":
        return EntropyCase(name, d, normal.normal_entropy(cov),
                           lambda n, g: g.standard_normal((n, d)) @ chol.T)
    if name == "sas-mixed":
        sd = np.sqrt(np.diag(cov))
        truth = normal.normal_entropy(cov) + sum(_expected_log_slope(0.0, s) for s in sd)
        return EntropyCase(name, d, truth,
                           lambda n, g: _sas(g.standard_normal((n, d)) @ chol.T) @ rot.T)
    if name == "student-t":
        nu = T_DOF
        truth = (0.5 * np.linalg.slogdet(cov)[1] + 0.5 * d * math.log(nu * math.pi)
                 + gammaln(nu / 2) - gammaln((nu + d) / 2)
                 + (nu + d) / 2 * (digamma((nu + d) / 2) - digamma(nu / 2)))

        def draw_t(n, g):
            scale = np.sqrt(nu / g.chisquare(nu, size=n))
            return (g.standard_normal((n, d)) @ chol.T) * scale[:, None]

        return EntropyCase(name, d, float(truth), draw_t)
    if name == "laplace-rotated":
        return EntropyCase(name, d, d * (1.0 + math.log(2.0 * LAPLACE_B)),
                           lambda n, g: g.laplace(0.0, LAPLACE_B, size=(n, d)) @ rot.T)
    raise ValueError(f"unknown entropy case {name!r}; expected one of {ENTROPY_CASES}")


@dataclass(frozen=True)
class DivergenceCase:
    name: str
    d: int
    truths: dict
    draw_p: Callable[[int, np.random.Generator], np.ndarray]
    draw_q: Callable[[int, np.random.Generator], np.ndarray]


def divergence_case(name: str, d: int, *, seed: int = 0) -> DivergenceCase:
    """p, q with D_1/2 about 1 nat whatever d (mean shift and a covariance scaling)."""
    rng = np.random.default_rng([seed, d, 2])
    cov_p = _covariance(d, rng)
    scale = 1.0 + 0.3 / math.sqrt(d)
    cov_q = cov_p * scale ** 2
    shift = rng.standard_normal(d)
    # Mahalanobis length 1 in the metric of cov_p
    shift *= 1.0 / math.sqrt(shift @ np.linalg.solve(cov_p, shift))
    mean_q = shift
    zero = np.zeros(d)
    truths = {"kl": normal.normal_kl(zero, cov_p, mean_q, cov_q),
              "renyi": normal.normal_renyi(zero, cov_p, mean_q, cov_q, 0.5),
              "hellinger2": normal.normal_hellinger2(zero, cov_p, mean_q, cov_q)}
    cp, cq = np.linalg.cholesky(cov_p), np.linalg.cholesky(cov_q)
    rot = _rotation(d, rng)
    if name == "gaussian":
        return DivergenceCase(name, d, truths, lambda n, g: g.standard_normal((n, d)) @ cp.T,
                              lambda n, g: mean_q + g.standard_normal((n, d)) @ cq.T)
    if name == "sas-mixed":
        return DivergenceCase(
            name, d, truths, lambda n, g: _sas(g.standard_normal((n, d)) @ cp.T) @ rot.T,
            lambda n, g: _sas(mean_q + g.standard_normal((n, d)) @ cq.T) @ rot.T)
    raise ValueError(f"unknown divergence case {name!r}; expected one of {DIVERGENCE_CASES}")
