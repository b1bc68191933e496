"""Gaussian-mixture prior with a linear-Gaussian measurement: a non-Gaussian posterior.

Problem: ``X ~ Σ_k π_k N(m_k, C_k)`` in ``R^d``, ``Y = A X + W``, ``W ~ N(0, σ² I_m)``.
Bayes' rule acts component-wise, so the posterior is again a mixture:

* component covariance ``S_k = (C_k⁻¹ + AᵀA/σ²)⁻¹`` and mean
  ``μ_k(y) = S_k (C_k⁻¹ m_k + Aᵀ y/σ²)`` (the linear-Gaussian posterior of component k);
* weight ``w_k(y) ∝ π_k N(y; A m_k, A C_k Aᵀ + σ² I)`` (the component's evidence).

Exact posterior draws pick a component from ``w(y)`` and draw from it. The posterior
mean is ``μ(y) = Σ_k w_k μ_k`` and its covariance
``Cov(y) = Σ_k w_k (S_k + μ_k μ_kᵀ) - μ μᵀ``.

Models: ``posterior`` (exact posterior sampling), ``mmse`` (``μ(y)``, ``M = 1``) and
``gaussian_fit`` (``N(μ(y), Cov(y))``, the moment-matched Gaussian: right first two
moments, wrong shape, so ``D_1/2 > 0`` and the Gaussian bounds are not tight).

Entropies of mixtures have no closed form; the answers are Monte Carlo averages of
``-log`` of the *known* densities over exact draws, with their standard errors:

* ``h(X|Y) = -E log p(X|Y)`` over joint draws ``(x, y)``; the error of the posterior
  sampler ``X̂ - X | y`` has the known density
  ``Σ_jk w_j w_k N(μ_j - μ_k, S_j + S_k)`` and that of ``gaussian_fit`` is
  ``Σ_k w_k N(μ - μ_k, S_k + Cov)``; the MMSE error is a shift of the posterior, so its
  entropy equals ``h(X|Y)``.
* ``N(X_G|Y) = exp(E_y (1/d) log|Cov(y)|)`` (Monte Carlo over ``y`` of a closed form).
* ``D_1/2`` of ``gaussian_fit``: per ``y``, ``BC_y = E_{x~p_y} sqrt(q_y(x)/p_y(x))`` from
  ``inner`` draws, then ``D = E_y[-2 log BC_y]``. The log of an inner average is biased
  by about ``Var/(2 BC² inner)``; it is included in the stated standard error's
  ``note``. ``hellinger2 = E_y[1 - BC_y]`` is unbiased; ``kl = E[log p - log q]`` is a
  plain average over joint draws.
* Pooled quantities: the posterior sampler's pooled draws follow the prior exactly, so
  its ``perception_pooled = 0``; the other pooled entropies have no tractable density
  and are left ``null`` with a note. ``uncertainty_gaussian`` is ``|Σ_err|^(1/d)`` with
  the pooled error covariance ``Σ_err = c · E_y Cov(y)`` (``c = 2`` for the samplers,
  1 for MMSE: the errors have zero conditional mean).
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.special import logsumexp

from ..theory import classify_region, eta, linear_gaussian_posterior, normal_entropy_power
from ._common import block_rng, mc_power, value, write_answers, write_generated

_LOG_2PI = math.log(2.0 * math.pi)


class MixturePosterior:
    """Exact posterior of a Gaussian-mixture prior under ``Y = A X + W``.

    Parameters
    ----------
    weights : array of shape (K,)
    means : array of shape (K, d)
    covs : array of shape (K, d, d)
    A : array of shape (m, d)
    noise_std : float
    """

    def __init__(self, weights, means, covs, A, noise_std):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.means = np.asarray(means, dtype=np.float64)
        self.covs = np.asarray(covs, dtype=np.float64)
        self.A = np.asarray(A, dtype=np.float64)
        self.noise_std = float(noise_std)
        k, d = self.means.shape
        m = self.A.shape[0]
        noise = self.noise_std**2 * np.eye(m)
        self.components = [linear_gaussian_posterior(self.A, self.covs[j], noise,
                                                     mean_x=self.means[j]) for j in range(k)]
        # evidence of each component: y ~ N(A m_k, A C_k A^T + noise)
        self._ev_mean = self.means @ self.A.T
        ev_cov = np.einsum("ij,kjl,ml->kim", self.A, self.covs, self.A) + noise
        self._ev_chol = np.linalg.cholesky(ev_cov)
        self._ev_logdet = 2 * np.log(np.diagonal(self._ev_chol, axis1=1, axis2=2)).sum(axis=1)
        self.post_covs = np.stack([c.cov for c in self.components])
        self.post_chols = np.stack([c.chol for c in self.components])
        self.d, self.K = d, k

    def sample_prior(self, n: int, rng) -> np.ndarray:
        comp = rng.choice(self.K, size=n, p=self.weights)
        z = rng.standard_normal((n, self.d))
        chols = np.linalg.cholesky(self.covs)
        return self.means[comp] + np.einsum("nij,nj->ni", chols[comp], z)

    def log_weights(self, y) -> np.ndarray:
        """``log w_k(y)``, shape (n, K)."""
        y = np.atleast_2d(y)
        out = np.empty((len(y), self.K))
        for j in range(self.K):
            r = np.linalg.solve(self._ev_chol[j], (y - self._ev_mean[j]).T).T
            out[:, j] = (np.log(self.weights[j]) - 0.5 * (r * r).sum(1)
                         - 0.5 * self._ev_logdet[j] - 0.5 * len(self.A) * _LOG_2PI)
        return out - logsumexp(out, axis=1, keepdims=True)

    def component_means(self, y) -> np.ndarray:
        """``μ_k(y)``, shape (n, K, d)."""
        y = np.atleast_2d(y)
        return np.stack([c.mean(y) for c in self.components], axis=1)

    def moments(self, y) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean (n, d) and covariance (n, d, d)."""
        w = np.exp(self.log_weights(y))
        mu_k = self.component_means(y)
        mean = np.einsum("nk,nkd->nd", w, mu_k)
        second = np.einsum("nk,kde->nde", w, self.post_covs) + np.einsum(
            "nk,nkd,nke->nde", w, mu_k, mu_k)
        cov = second - np.einsum("nd,ne->nde", mean, mean)
        return mean, 0.5 * (cov + np.swapaxes(cov, 1, 2))

    def sample(self, y, n_samples: int, rng) -> np.ndarray:
        """Exact posterior draws, shape (n, n_samples, d)."""
        y = np.atleast_2d(y)
        w = np.exp(self.log_weights(y))
        u = rng.random((len(y), n_samples, 1))
        comp = (u > np.cumsum(w, axis=1)[:, None, :]).sum(axis=2)
        comp = np.minimum(comp, self.K - 1)
        mu_k = self.component_means(y)
        mean = np.take_along_axis(mu_k, comp[..., None], axis=1)
        z = rng.standard_normal((len(y), n_samples, self.d))
        return mean + np.einsum("nsij,nsj->nsi", self.post_chols[comp], z)

    def log_density(self, x, y) -> np.ndarray:
        """``log p(x | y)`` for paired rows, shape (n,)."""
        return _mixture_logpdf(x, self.log_weights(y), self.component_means(y),
                               self.post_chols[None])


def _gauss_logpdf(x, mean, chol) -> np.ndarray:
    """log N(x; mean, L Lᵀ) for broadcastable (..., d) rows and (..., d, d) factors."""
    diff = x - mean
    r = np.linalg.solve(chol, diff[..., None])[..., 0]
    logdet = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
    return -0.5 * ((r * r).sum(-1) + logdet + x.shape[-1] * _LOG_2PI)


def _mixture_logpdf(x, log_w, means, chols) -> np.ndarray:
    """log Σ_k w_k N(x; means[:, k], chols[:, k]); x (n, d), log_w (n, K), means (n, K, d)."""
    chols = np.broadcast_to(chols, (len(x),) + chols.shape[1:])
    terms = log_w + _gauss_logpdf(x[:, None, :], means, chols)
    return logsumexp(terms, axis=1)


def make_mixture_problem(*, d: int = 4, m: int | None = None, components: int = 3,
                         noise_std: float = 0.3, separation: float = 2.5,
                         seed: int = 0) -> MixturePosterior:
    """A mixture prior with well separated components and an ``m < d`` measurement."""
    d, k = int(d), int(components)
    if d < 1 or k < 1:
        raise ValueError(f"d and components must be ints >= 1; got d={d!r}, components={k!r}.")
    m = max(1, d // 2) if m is None else int(m)
    rng = np.random.default_rng([int(seed), 104729])
    weights = rng.dirichlet(np.full(k, 4.0))
    A = rng.standard_normal((m, d)) / math.sqrt(d)
    # components separated along the null space of A: y cannot tell them apart, so the
    # posterior stays multimodal (a small range-space offset lets the weights vary with y)
    null = np.linalg.svd(A)[2][m:].T if m < d else np.zeros((d, 1))
    means = (separation * rng.standard_normal((k, null.shape[1])) @ null.T
             + 0.5 * rng.standard_normal((k, d)))
    covs = []
    for _ in range(k):
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        covs.append((q * rng.uniform(0.1, 0.6, d)) @ q.T)
    covs = 0.5 * (np.array(covs) + np.swapaxes(covs, 1, 2))
    return MixturePosterior(weights, means, covs, A, noise_std)


def _draw_joint(post: MixturePosterior, n: int, rng):
    x = post.sample_prior(n, rng)
    y = x @ post.A.T + post.noise_std * rng.standard_normal((n, post.A.shape[0]))
    return x, y


def exact_answers(post: MixturePosterior, *, n_mc: int = 20000, n_outer: int = 300,
                  n_inner: int = 1000, seed: int = 0) -> dict:
    """Monte Carlo answers on the known densities (see the module notes)."""
    rng = np.random.default_rng([int(seed), 15485863])
    d = post.d
    x, y = _draw_joint(post, n_mc, rng)
    log_w = post.log_weights(y)
    mu_k = post.component_means(y)
    mean, cov = post.moments(y)
    h_post = -_mixture_logpdf(x, log_w, mu_k, post.post_chols[None])
    n_inh = mc_power(h_post, d)
    logdets = np.linalg.slogdet(cov)[1] / d
    n_gauss = math.exp(float(logdets.mean()))
    n_gauss_se = n_gauss * float(logdets.std(ddof=1)) / math.sqrt(n_mc)
    tr = np.trace(cov, axis1=1, axis2=2) / d
    mse1 = (float(tr.mean()), float(tr.std(ddof=1)) / math.sqrt(n_mc))
    mean_cov = cov.mean(axis=0)
    method = f"monte carlo, {n_mc} joint draws"

    # posterior sampler: e = x_hat - x with x_hat an independent posterior draw
    x_hat = post.sample(y, 1, rng)[:, 0]
    e = x_hat - x
    k = post.K
    pair_w = (log_w[:, :, None] + log_w[:, None, :]).reshape(n_mc, k * k)
    pair_mean = (mu_k[:, :, None, :] - mu_k[:, None, :, :]).reshape(n_mc, k * k, d)
    pair_chol = np.linalg.cholesky(post.post_covs[:, None] + post.post_covs[None, :])
    h_err_post = -_mixture_logpdf(e, pair_w, pair_mean, pair_chol.reshape(1, k * k, d, d))
    u_post = mc_power(h_err_post, d)

    # gaussian_fit: q_y = N(mean, cov); error density sum_k w_k N(mean - mu_k, S_k + cov)
    chol_q = np.linalg.cholesky(cov)
    x_fit = mean + np.einsum("nij,nj->ni", chol_q, rng.standard_normal((n_mc, d)))
    e_fit = x_fit - x
    fit_chols = np.linalg.cholesky(post.post_covs[None] + cov[:, None])
    h_err_fit = -_mixture_logpdf(e_fit, log_w, mean[:, None, :] - mu_k, fit_chols)
    u_fit = mc_power(h_err_fit, d)
    log_q = _gauss_logpdf(x, mean, chol_q)
    kl_terms = -h_post - log_q
    kl_fit = (float(kl_terms.mean()), float(kl_terms.std(ddof=1)) / math.sqrt(n_mc))

    # nested Monte Carlo for the Bhattacharyya coefficient of gaussian_fit
    _, y_out = _draw_joint(post, n_outer, rng)
    bc = np.empty(n_outer)
    for i in range(n_outer):
        yi = np.repeat(y_out[i:i + 1], n_inner, axis=0)
        xs = post.sample(y_out[i:i + 1], n_inner, rng)[0]
        log_p = post.log_density(xs, yi)
        mi, ci = post.moments(y_out[i:i + 1])
        log_q_i = _gauss_logpdf(xs, mi, np.linalg.cholesky(ci))
        bc[i] = float(np.mean(np.exp(0.5 * (log_q_i - log_p))))
    d_half = -2.0 * np.log(bc)
    d_half_fit = (float(d_half.mean()), float(d_half.std(ddof=1)) / math.sqrt(n_outer))
    h2 = 1.0 - bc
    h2_fit = (float(h2.mean()), float(h2.std(ddof=1)) / math.sqrt(n_outer))
    nested = (f"nested monte carlo, {n_outer} measurements x {n_inner} posterior draws; "
              f"the log of the inner mean adds a bias of order 1/{n_inner}")

    def bounds(p, u, *, se_p=0.0):
        call = classify_region(u[0], math.inf if p is None else p, d, n_inh[0], n_gauss,
                               uncertainty_stderr=u[1], perception_stderr=se_p,
                               n_inherent_stderr=n_inh[1], n_gaussian_stderr=n_gauss_se, z=3.0)
        factor = float(eta(math.inf if p is None else p, d))
        return {"lower": value(call.lower, stderr=factor * n_inh[1], method=method),
                "upper": value(call.upper, stderr=factor * n_gauss_se, method=method),
                "eta": factor}, call.region

    none_note = "no tractable density for the pooled law; not computed"
    b_post, r_post = bounds(0.0, u_post)
    b_fit, r_fit = bounds(d_half_fit[0], u_fit, se_p=d_half_fit[1])
    b_mmse, r_mmse = bounds(None, n_inh)
    # E_y Cov(y) is itself a Monte Carlo mean; its error is not propagated through |.|^(1/d)
    cov_note = "Monte Carlo mean of Cov(y) over the joint draws; stderr not estimated"
    pooled_err = {name: normal_entropy_power(c * mean_cov) for name, c in
                  (("posterior", 2.0), ("gaussian_fit", 2.0), ("mmse", 1.0))}
    models = {
        "posterior": {
            "uncertainty": value(u_post[0], stderr=u_post[1], method=method),
            "uncertainty_pooled": value(None, note=none_note),
            "uncertainty_gaussian": value(pooled_err["posterior"], method=method,
                                          note=cov_note),
            "spread": value(n_inh[0], stderr=n_inh[1], method=method),
            "perception": value(0.0), "hellinger2": value(0.0), "kl": value(0.0),
            "perception_pooled": value(0.0, note="pooled posterior draws follow the prior"),
            "distortion": value(2 * mse1[0], stderr=2 * mse1[1], method=method),
            "bounds": b_post, "region": r_post,
        },
        "mmse": {
            "uncertainty": value(n_inh[0], stderr=n_inh[1], method=method,
                                 note="the MMSE error given y is a shift of the posterior"),
            "uncertainty_pooled": value(None, note=none_note),
            "uncertainty_gaussian": value(pooled_err["mmse"], method=method,
                                          note=cov_note),
            "spread": value(0.0),
            "perception": value(None, note="infinite: deterministic estimator"),
            "hellinger2": value(1.0),
            "kl": value(None, note="infinite: deterministic estimator"),
            "perception_pooled": value(None, note="infinite: MMSE estimates lie on an "
                                                  "m-dimensional manifold"),
            "distortion": value(mse1[0], stderr=mse1[1], method=method),
            "bounds": b_mmse, "region": r_mmse,
        },
        "gaussian_fit": {
            "uncertainty": value(u_fit[0], stderr=u_fit[1], method=method),
            "uncertainty_pooled": value(None, note=none_note),
            "uncertainty_gaussian": value(pooled_err["gaussian_fit"], method=method,
                                          note=cov_note),
            "spread": value(n_gauss, stderr=n_gauss_se, method=method,
                            note="= N(X_G|Y): the model is the moment-matched Gaussian"),
            "perception": value(d_half_fit[0], stderr=d_half_fit[1], method=nested),
            "hellinger2": value(h2_fit[0], stderr=h2_fit[1], method=nested),
            "kl": value(kl_fit[0], stderr=kl_fit[1], method=method),
            "perception_pooled": value(None, note=none_note),
            "distortion": value(2 * mse1[0], stderr=2 * mse1[1], method=method),
            "bounds": b_fit, "region": r_fit,
        },
    }
    return {
        "inherent_uncertainty": value(n_inh[0], stderr=n_inh[1], method=method),
        "inherent_uncertainty_gaussian": value(n_gauss, stderr=n_gauss_se, method=method),
        "models": models,
    }


def make_gaussian_mixture(path, *, d: int = 4, m: int | None = None, components: int = 3,
                          noise_std: float = 0.3, num_measurements: int = 200,
                          reference_samples: int = 64, model_samples: int = 64, seed: int = 0,
                          shards: int = 1, dtype=np.float64, compression=None,
                          fletcher32: bool = False, n_mc: int = 20000, n_outer: int = 300,
                          n_inner: int = 1000) -> dict:
    """Write a Gaussian-mixture-prior archive and its answers (``<archive>.truth.json``).

    Parameters
    ----------
    path : str or os.PathLike
        ``*.h5`` file (``shards=1``) or directory of shards.
    d, m, components, noise_std
        Signal and measurement dimensions, number of prior components, noise std.
    num_measurements, reference_samples, model_samples : int
        ``G``, ``R``, ``M`` (``mmse`` has ``M = 1``).
    seed, shards, dtype, compression, fletcher32
        As in :func:`~hpx_uncert.synth.make_linear_gaussian`.
    n_mc, n_outer, n_inner : int
        Monte Carlo sizes of the answers (see the module notes).

    Returns
    -------
    dict
        The answers written to the JSON file.
    """
    post = make_mixture_problem(d=d, m=m, components=components, noise_std=noise_std, seed=seed)
    dtype = np.dtype(dtype)

    def generate(lo, hi):
        rng = block_rng(seed, lo)
        x, y = _draw_joint(post, hi - lo, rng)
        mean, cov = post.moments(y)
        chol = np.linalg.cholesky(cov)
        fit = mean[:, None, :] + np.einsum("nij,nsj->nsi", chol,
                                           rng.standard_normal((hi - lo, model_samples, post.d)))
        models = {"posterior": post.sample(y, model_samples, rng), "mmse": mean[:, None, :],
                  "gaussian_fit": fit}
        return dict(truth=x.astype(dtype),
                    reference=post.sample(y, reference_samples, rng).astype(dtype),
                    models={k: v.astype(dtype) for k, v in models.items()},
                    ids=np.arange(lo, hi), measurement=y.astype(dtype))

    per = dtype.itemsize * post.d * (2 + reference_samples + 2 * model_samples)
    started = time.perf_counter()
    write_generated(path, num_measurements=num_measurements, shards=shards,
                    bytes_per_measurement=per, generate=generate,
                    writer_options=dict(compression=compression, fletcher32=fletcher32),
                    attrs={"description": "hpx_uncert synthetic Gaussian-mixture workload",
                           "synthetic_kind": "gaussian_mixture"})
    written = time.perf_counter() - started
    answers = {
        "kind": "gaussian_mixture",
        "exact": True,
        "archive": str(path),
        "parameters": {"d": post.d, "m": int(post.A.shape[0]), "components": post.K,
                       "noise_std": post.noise_std, "num_measurements": int(num_measurements),
                       "reference_samples": int(reference_samples),
                       "model_samples": int(model_samples), "seed": int(seed),
                       "shards": int(shards), "dtype": dtype.name, "n_mc": int(n_mc),
                       "n_outer": int(n_outer), "n_inner": int(n_inner)},
        "problem": {"weights": post.weights, "means": post.means, "covs": post.covs,
                    "A": post.A, "noise_std": post.noise_std},
        "note": ("values are population quantities; where no closed form exists they are "
                 "Monte Carlo averages on the known densities with the stated stderr "
                 "(see hpx_uncert.synth.mixture)"),
        **exact_answers(post, n_mc=n_mc, n_outer=n_outer, n_inner=n_inner, seed=seed),
        "seconds_to_write": round(written, 3),
    }
    write_answers(path, answers)
    return answers
