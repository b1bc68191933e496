"""Small synthetic archives with exact answers for the evaluate tests.

Gaussian posteriors ``X | Y=y_g ~ N(mu_g, S)`` with the same covariance ``S`` for
every measurement (as in a linear-Gaussian inverse problem): truth and reference
are posterior draws, a ``gamma`` model draws ``mu_g + sqrt(gamma) L xi`` (the
optimal family of theory.md section 4), a ``wide`` model draws ``mu_g + L_w xi``
with a covariance of another shape (suboptimal). Exact answers come from the
Gaussian closed forms in ``hpx_uncert.theory``.
"""

from __future__ import annotations

import math

import numpy as np


def posterior_cov(d: int, rng) -> np.ndarray:
    a = rng.normal(size=(d, d)) / math.sqrt(d)
    return 0.5 * np.eye(d) + 0.5 * a @ a.T


def make(path_or_dir, *, G=60, M=40, R=40, d=3, gammas=(0.25, 1.0), wide=True, shards=1,
         seed=0, mean_scale=2.0, truth=True, reference=True, chunk=None):
    """Write the archive (``shards`` files under a folder when > 1); return exact answers."""
    from hpx_uncert.io import write_archive
    from hpx_uncert.theory import normal_d_half, normal_entropy_power, normal_kl

    rng = np.random.default_rng(seed)
    S = posterior_cov(d, rng)
    Lc = np.linalg.cholesky(S)
    mu = mean_scale * rng.normal(size=(G, d))
    x = mu + rng.normal(size=(G, d)) @ Lc.T
    ref = mu[:, None] + rng.normal(size=(G, R, d)) @ Lc.T
    models = {}
    covs = {}
    for gam in gammas:
        name = f"gamma{gam:g}"
        models[name] = mu[:, None] + math.sqrt(gam) * rng.normal(size=(G, M, d)) @ Lc.T
        covs[name] = gam * S
    if wide:
        W = np.diag(np.linspace(0.3, 2.5, d)) @ S @ np.diag(np.linspace(0.3, 2.5, d))
        models["wide"] = mu[:, None] + rng.normal(size=(G, M, d)) @ np.linalg.cholesky(W).T
        covs["wide"] = W
    zero = np.zeros(d)
    n_inh = normal_entropy_power(S)
    exact = {"inherent_uncertainty": n_inh, "inherent_uncertainty_gaussian": n_inh, "models": {}}
    for name, C in covs.items():
        err = S + C
        exact["models"][name] = {
            "uncertainty": normal_entropy_power(err),
            "uncertainty_pooled": normal_entropy_power(err),
            "uncertainty_gaussian": normal_entropy_power(err),
            "spread": normal_entropy_power(C),
            "perception": normal_d_half(zero, S, zero, C),
            "kl": normal_kl(zero, S, zero, C),
            "distortion": float(np.trace(err)) / d,
        }
    bounds = np.linspace(0, G, shards + 1).astype(int)
    import os
    if shards == 1:
        paths = [os.fspath(path_or_dir)]
    else:
        os.makedirs(path_or_dir, exist_ok=True)
        paths = [os.path.join(path_or_dir, f"part-{i:03d}.h5") for i in range(shards)]
    for i, p in enumerate(paths):
        sl = slice(bounds[i], bounds[i + 1])
        write_archive(p, models={n: v[sl] for n, v in models.items()},
                      truth=x[sl] if truth else None, reference=ref[sl] if reference else None,
                      ids=np.arange(G)[sl] + 1000, chunk_measurements=chunk)
    return exact
