"""Linear-Gaussian workload: every report quantity in closed form.

Problem: ``X ~ N(0, Σ)`` in ``R^d``, ``Y = A X + W`` with ``A`` of shape (m, d),
``m < d`` (not invertible) and ``W ~ N(0, σ² I_m)``. The posterior is
``X | Y=y ~ N(μ(y), S)`` with ``S = (Σ⁻¹ + AᵀA/σ²)⁻¹`` the same for every ``y``
(``hpx_uncert.theory.linear_gaussian_posterior``).

Models. Each model draws ``X̂ | Y=y ~ N(μ(y), C)``, independent of ``X`` given ``Y``:

* ``gamma_<γ>``: ``C = γ S`` (``X̂ = μ(y) + sqrt(γ) L ξ``, ``L Lᵀ = S``), the optimal
  family of Theorem 3; ``gamma_1`` samples the true posterior;
* ``mmse``: ``C = 0`` (``M = 1``, the posterior mean);
* ``isotropic``: ``C = τ² I`` with ``τ² = |S|^(1/d)``, the posterior mean plus white noise
  of the same entropy power as the posterior -- right spread, wrong shape, hence
  sub-optimal whenever ``S`` is not isotropic.

Derivations (``N(·)`` is the entropy power, ``|·|`` the determinant):

* Inherent uncertainty ``N(X|Y) = |S|^(1/d)``; ``X_G = X`` here, so
  ``N(X_G|Y) = N(X|Y)``.
* Error given ``y``: ``X̂ - X = (X̂ - μ) - (X - μ)``, a difference of independent centred
  normals, so ``X̂ - X | y ~ N(0, S + C)``: ``uncertainty = |S + C|^(1/d)``. The paired
  error ``x̂ - x_ref`` against a reference draw has the same law. The law does not depend
  on ``y``, so the error pooled over measurements is ``N(0, S + C)`` as well:
  ``uncertainty_pooled = uncertainty_gaussian = |S + C|^(1/d)``. For ``C = γS`` this is
  ``(1+γ) N(X|Y)``.
* ``spread = N(X̂|Y) = |C|^(1/d)``: ``γ N(X|Y)``, ``τ²``, and 0 for MMSE.
* ``perception = D_1/2(N(μ, S), N(μ, C))``; for ``C = γS`` it is
  ``(d/2) log((1+γ)²/(4γ))``; infinite for MMSE (``C`` singular). ``hellinger2 = 1 - e^(-D/2)``;
  ``kl = KL(N(μ, S) || N(μ, C))``.
* Pooled laws: ``X ~ N(0, Σ)``; ``μ(Y)`` has covariance ``Σ - S`` (total covariance), so
  pooled ``X̂ ~ N(0, Σ - S + C)``: ``perception_pooled = D_1/2(N(0, Σ), N(0, Σ - S + C))``
  (0 for ``γ = 1``; infinite for MMSE since ``Σ - S`` has rank ``m < d``).
* ``distortion`` (per-dimension MSE) ``= E||X̂ - X||²/d = tr(S + C)/d``.
* ``bounds``: Theorem 3 at the model's ``P``: ``η(P; d) N(X|Y)`` and ``η(P; d) N(X_G|Y)``
  (equal here). For ``γ ≤ 1``, ``η(P(γ); d) = 1 + γ``, so the model sits exactly on the
  bound (``optimal``); ``γ > 1`` gives ``η = 1 + 1/γ`` and lies above (``suboptimal``).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..theory import (classify_region, eta, linear_gaussian_posterior, normal_d_half,
                      normal_entropy_power, normal_hellinger2, normal_kl)
from ._common import block_rng, value, write_answers, write_generated

DEFAULT_GAMMAS = (0.25, 0.5, 1.0, 2.0)


def make_problem(*, d: int = 8, m: int | None = None, noise_std: float = 0.5,
                 seed: int = 0) -> dict:
    """Draw the problem's ``Σ`` (anisotropic, eigenvalues from 0.25 to 4) and ``A``.

    Returns a dict with ``cov_x`` (d, d), ``A`` (m, d), ``noise_std`` and the theory
    posterior object ``posterior``.
    """
    if isinstance(d, bool) or int(d) < 1:
        raise ValueError(f"d must be an int >= 1; got {d!r}.")
    d = int(d)
    m = max(1, d // 2) if m is None else int(m)
    if not 1 <= m:
        raise ValueError(f"m must be an int >= 1; got {m!r}.")
    if not noise_std > 0:
        raise ValueError(f"noise_std must be > 0; got {noise_std!r}.")
    rng = np.random.default_rng([int(seed), 7919])
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.geomspace(0.25, 4.0, d) if d > 1 else np.array([1.0])
    cov_x = (q * eig) @ q.T
    cov_x = 0.5 * (cov_x + cov_x.T)
    A = rng.standard_normal((m, d)) / math.sqrt(d)
    post = linear_gaussian_posterior(A, cov_x, noise_std**2 * np.eye(m))
    return {"cov_x": cov_x, "A": A, "noise_std": float(noise_std), "posterior": post}


def model_covariances(problem: dict, gammas) -> dict:
    """Model name -> conditional covariance ``C`` of ``X̂ | Y`` (None for MMSE)."""
    post = problem["posterior"]
    out = {f"gamma_{g:g}": g * post.cov for g in gammas}
    out["mmse"] = None
    out["isotropic"] = post.entropy_power * np.eye(post.d)
    return out


def exact_answers(problem: dict, gammas=DEFAULT_GAMMAS) -> dict:
    """Every report quantity of every model, in closed form (see the module notes)."""
    post = problem["posterior"]
    d, s, cov_x = post.d, post.cov, problem["cov_x"]
    n_inh = post.entropy_power
    zero = np.zeros(d)
    models = {}
    for name, c in model_covariances(problem, gammas).items():
        c_eff = np.zeros((d, d)) if c is None else c
        err_power = normal_entropy_power(s + c_eff)
        if c is None:
            perception, h2, kl, pooled = math.inf, 1.0, math.inf, math.inf
            spread = 0.0
        else:
            perception = normal_d_half(zero, s, zero, c)
            h2 = normal_hellinger2(zero, s, zero, c)
            kl = normal_kl(zero, s, zero, c)
            pooled_cov = cov_x - s + c
            pooled = normal_d_half(zero, cov_x, zero, 0.5 * (pooled_cov + pooled_cov.T))
            spread = normal_entropy_power(c)
        factor = float(eta(perception, d))
        call = classify_region(err_power, perception, d, n_inh, n_inh)
        lower, upper, region = call.lower, call.upper, call.region
        inf_note = "infinite: a deterministic estimator has a singular posterior"
        models[name] = {
            "conditional_covariance": ("0" if c is None else "gamma * S"
                                       if name.startswith("gamma_")
                                       else "tau^2 I, tau^2 = |S|^(1/d)"),
            "uncertainty": value(err_power),
            "uncertainty_pooled": value(err_power),
            "uncertainty_gaussian": value(err_power),
            "spread": value(spread),
            "perception": value(perception, note=None if c is not None else inf_note),
            "hellinger2": value(h2),
            "kl": value(kl, note=None if c is not None else inf_note),
            "perception_pooled": value(pooled, note=None if c is not None else
                                       "infinite: pooled MMSE estimates lie in an m-dimensional "
                                       "subspace"),
            "distortion": value(float(np.trace(s + c_eff)) / d),
            "bounds": {"lower": value(lower), "upper": value(upper), "eta": factor},
            "region": region,
        }
    return {
        "inherent_uncertainty": value(n_inh),
        "inherent_uncertainty_gaussian": value(n_inh),
        "models": models,
    }


def make_linear_gaussian(path, *, d: int = 8, m: int | None = None, noise_std: float = 0.5,
                         num_measurements: int = 200, reference_samples: int = 64,
                         model_samples: int = 64, gammas=DEFAULT_GAMMAS, seed: int = 0,
                         shards: int = 1, dtype=np.float64, compression=None,
                         fletcher32: bool = False) -> dict:
    """Write a linear-Gaussian archive and its exact answers (``<archive>.truth.json``).

    Parameters
    ----------
    path : str or os.PathLike
        ``*.h5`` file (``shards=1``) or directory of shards.
    d, m, noise_std : int, int, float
        Signal dimension, measurement dimension (default ``d // 2``), noise std ``σ``.
    num_measurements, reference_samples, model_samples : int
        ``G``, ``R`` and ``M`` (stochastic models; MMSE has ``M = 1``).
    gammas : sequence of float
        Noise scales of the optimal family (each > 0).
    seed : int
        Random seed; the archive is a deterministic function of all parameters.
    shards : int
        Number of shards.
    dtype : float32 or float64
        Storage type of the samples.
    compression, fletcher32
        Passed to :class:`~hpx_uncert.io.ArchiveWriter`.

    Returns
    -------
    dict
        The answers written to the JSON file (``"parameters"``, ``"exact"``,
        ``"archive_level"`` values and ``"models"``).
    """
    gammas = tuple(float(g) for g in gammas)
    if not gammas or min(gammas) <= 0:
        raise ValueError(f"gammas must be positive noise scales; got {gammas!r} (gamma = 0 is "
                         f"the 'mmse' model, always included).")
    problem = make_problem(d=d, m=m, noise_std=noise_std, seed=seed)
    post = problem["posterior"]
    cov_chol = np.linalg.cholesky(problem["cov_x"])
    A, sigma = problem["A"], problem["noise_std"]
    covs = model_covariances(problem, gammas)
    iso_std = math.sqrt(post.entropy_power)
    dtype = np.dtype(dtype)

    def generate(lo, hi):
        rng = block_rng(seed, lo)
        g = hi - lo
        x = rng.standard_normal((g, post.d)) @ cov_chol.T
        y = x @ A.T + sigma * rng.standard_normal((g, A.shape[0]))
        mean = post.mean(y)
        models = {}
        for gamma in gammas:
            models[f"gamma_{gamma:g}"] = post.sample(y, n_samples=model_samples, gamma=gamma,
                                                     rng=rng)
        models["mmse"] = mean[:, None, :]
        models["isotropic"] = mean[:, None, :] + iso_std * rng.standard_normal(
            (g, model_samples, post.d))
        return dict(truth=x.astype(dtype),
                    reference=post.sample(y, n_samples=reference_samples, rng=rng).astype(dtype),
                    models={k: v.astype(dtype) for k, v in models.items()},
                    ids=np.arange(lo, hi), measurement=y.astype(dtype))

    per = dtype.itemsize * post.d * (2 + reference_samples + model_samples * (len(covs) - 1))
    started = time.perf_counter()
    write_generated(path, num_measurements=num_measurements, shards=shards,
                    bytes_per_measurement=per, generate=generate,
                    writer_options=dict(compression=compression, fletcher32=fletcher32),
                    attrs={"description": "hpx_uncert synthetic linear-Gaussian workload",
                           "synthetic_kind": "linear_gaussian"})
    answers = {
        "kind": "linear_gaussian",
        "exact": True,
        "archive": str(path),
        "parameters": {"d": post.d, "m": int(A.shape[0]), "noise_std": sigma,
                       "num_measurements": int(num_measurements),
                       "reference_samples": int(reference_samples),
                       "model_samples": int(model_samples), "gammas": list(gammas),
                       "seed": int(seed), "shards": int(shards), "dtype": dtype.name},
        "problem": {"cov_x": problem["cov_x"], "A": A, "cov_w": sigma**2 * np.eye(A.shape[0]),
                    "posterior_cov": post.cov},
        "note": "closed forms; see hpx_uncert.synth.linear_gaussian for the derivations",
        **exact_answers(problem, gammas),
        "seconds_to_write": round(time.perf_counter() - started, 3),
    }
    write_answers(path, answers)
    return answers


__all__ = ["DEFAULT_GAMMAS", "exact_answers", "make_linear_gaussian", "make_problem",
           "model_covariances"]
