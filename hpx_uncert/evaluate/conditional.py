"""The conditional work unit: everything computed within measurements of one shard.

For each measurement ``g`` of the shard it records the per-measurement estimates
(entropies of the reference, of each model's samples and of the paired errors,
divergences between reference and model, the log-determinant of the reference
covariance, the MSE against truth) and feeds the errors against truth into
mergeable moments. The merge averages the per-measurement values over the whole
archive, which is exactly ``E_y`` of the paper.

Image archives with ``settings.centre`` centre the samples of each measurement per
location before the estimates that describe a posterior or compare two (see
:mod:`.views`); paired errors and errors against truth are content-free already
and are never centred.
"""

from __future__ import annotations

import numpy as np

from .quantities import archive_reasons, model_reasons
from .streaming import BlockMoments
from .views import as_vectors, centre_own, reference_channel, resolve_centre, vector_shape

#: Blocks read by a unit hold at most this share of the memory budget: their float64
#: vectors, paired errors, errors against truth and the grouped estimators' candidate
#: and leave-out arrays take up to ~10 times a float32 block (measured: 12 left a
#: 1-shard 2.6e5-sample archive 40 % over a 128 MiB budget, 32 brought it to 10 %,
#: the rest being the pooled unit and allocator slack), and the neighbour searches get
#: ``SEARCH_SHARE``.
BLOCK_SHARE = 32

#: Share of the memory budget given to the estimators' neighbour searches.
SEARCH_SHARE = 4


def _group_values(estimate) -> np.ndarray:
    return np.asarray(estimate.details["group_values"], dtype=np.float64)


def _with_context(context: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{context}: {exc}") from None


def _groups(v: np.ndarray) -> np.ndarray:
    """(g, S, L, D) -> (g, S*L, D)."""
    return v.reshape(v.shape[0], v.shape[1] * v.shape[2], v.shape[3])


def run_conditional_unit(archive, settings, unit, models) -> dict:
    """Per-measurement results of the measurements of shard ``unit.shard``.

    Returns
    -------
    dict of str -> ndarray
        ``index`` (g,) global measurement indices; ``ref_h``, ``ref_logdet`` (g,);
        per model number ``i``: ``m{i}_spread_h``, ``m{i}_unc_h``, ``m{i}_dhalf``,
        ``m{i}_kl``, ``m{i}_mse`` (g,) and the error moments ``m{i}_err_*`` — each only
        where the archive supports it (see :mod:`.quantities`).
    """
    from hpx_uncert.estimators.conditional import (conditional_entropy,
                                                   conditional_kl_divergence,
                                                   conditional_renyi_divergence)

    settings = resolve_centre(archive, settings)
    centre = settings.centre
    L, D = vector_shape(archive, settings)
    k = settings.k
    opts = {"k": k, "correction": settings.correction, "duplicates": settings.duplicates,
            "memory_budget": max(1, settings.memory_budget // SEARCH_SHARE),
            "device": settings.device}
    div_opts = {**opts, "correction": settings.perception_correction}
    a_why = archive_reasons(archive, settings, L, D)
    m_why = {m: model_reasons(archive, settings, m, L, D) for m in models}
    fields = ["models"] + [f for f, has in (("truth", archive.has_truth),
                                            ("reference", archive.has_reference)) if has]
    acc: dict[str, list] = {}
    moments = {i: BlockMoments(D, settings.jackknife_blocks) for i, m in enumerate(models)
               if "uncertainty_gaussian" not in m_why[m]}
    shard_name = archive.shards[unit.shard]

    def put(name, values):
        acc.setdefault(name, []).append(np.asarray(values, dtype=np.float64))

    for block in archive.iter_blocks(fields=fields, models=list(models), shards=[unit.shard],
                                     memory_budget=max(1, settings.memory_budget // BLOCK_SHARE)):
        index = np.arange(block.start, block.stop, dtype=np.int64)
        acc.setdefault("index", []).append(index)
        where = f"shard {shard_name}, measurements {block.start}..{block.stop - 1}"
        ref = None
        if archive.has_reference:
            ref = as_vectors(block.reference, archive, settings)
            ref_own = centre_own(ref) if centre else ref
            if "inherent_uncertainty" not in a_why:
                put("ref_h", _group_values(_with_context(
                    f"{where}, reference", conditional_entropy, _groups(ref_own), **opts)))
            if "inherent_uncertainty_gaussian" not in a_why:
                put("ref_logdet", _logdets(ref_own, centred=centre,
                                           where=f"{where}, reference"))
        truth = None
        if archive.has_truth:
            truth = block.truth
        for i, m in enumerate(models):
            why = m_why[m]
            raw = block.models[m]
            x = as_vectors(raw, archive, settings)
            ctx = f"{where}, model {m!r}"
            if "spread" not in why:
                put(f"m{i}_spread_h", _group_values(_with_context(
                    f"{ctx}, spread", conditional_entropy,
                    _groups(centre_own(x) if centre else x), **opts)))
            if ref is not None and "uncertainty" not in why:
                p = min(x.shape[1], ref.shape[1])
                put(f"m{i}_unc_h", _group_values(_with_context(
                    f"{ctx}, paired errors", conditional_entropy,
                    _groups(x[:, :p] - ref[:, :p]), **opts)))
            if ref is not None and "perception" not in why:
                rg, xg = ((_groups(v) for v in reference_channel(ref, x)) if centre
                          else (_groups(ref), _groups(x)))
                put(f"m{i}_dhalf", _group_values(_with_context(
                    f"{ctx}, perception", conditional_renyi_divergence, rg, xg, alpha=0.5,
                    **div_opts)))
                put(f"m{i}_kl", _group_values(_with_context(
                    f"{ctx}, kl", conditional_kl_divergence, rg, xg, **div_opts)))
            if ref is not None and "perception_gaussian" not in why:
                # vector archives are the one-location case of the bias-corrected form
                by_location = centre or ref.shape[2] == 1
                put(f"m{i}_dhalf_gauss", _gaussian_d_half_by_location(ref, x) if by_location
                    else _gaussian_d_half(_groups(ref), _groups(x)))
            if truth is not None:
                err_raw = np.asarray(raw, np.float64) - np.asarray(truth, np.float64)[:, None]
                put(f"m{i}_mse", np.mean(err_raw.reshape(len(index), -1) ** 2, axis=1))
                if i in moments:
                    err = as_vectors(err_raw, archive, settings)
                    per = err.shape[1] * err.shape[2]
                    moments[i].add(err.reshape(-1, D), np.repeat(index, per))
    out = {name: np.concatenate(parts) for name, parts in acc.items()}
    for i, mom in moments.items():
        out.update(mom.to_arrays(f"m{i}_err_"))
    return out


def _gaussian_d_half(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Closed-form ``D_1/2`` between the Gaussians with the sample moments of each group."""
    from hpx_uncert.theory import normal_d_half

    out = np.empty(len(p))
    for g in range(len(p)):
        out[g] = normal_d_half(p[g].mean(axis=0), np.atleast_2d(np.cov(p[g], rowvar=False)),
                               q[g].mean(axis=0), np.atleast_2d(np.cov(q[g], rowvar=False)))
    return out


def _gaussian_d_half_by_location(ref: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian ``D_1/2`` per location, averaged over locations, for each measurement.

    ``ref`` (g, R, L, D) and ``x`` (g, M, L, D) are uncentred. Each posterior is
    taken Gaussian with a location-dependent mean and one covariance for all
    locations (stationary source), estimated by the within-location covariances
    ``S_r``, ``S_m`` (``n_r = L (R-1)``, ``n_m = L (M-1)`` degrees of freedom),
    and the per-location mean differences ``b_l``.

    ``D_1/2 = (1/4) mean_l b_l^T S^-1 b_l + log|S| - (log|S_r| + log|S_m|) / 2`` with
    ``S = (S_r + S_m) / 2``, corrected for its three known biases: each log-det
    loses its Wishart bias (``S``, a sum of two Wisharts, taken as one with the
    Satterthwaite-matched degrees of freedom ``n_s`` of Nel and van der Merwe
    (1986), plugged in; ``n_s = n_r + n_m`` when ``Σ_r = Σ_m``); ``E b_l b_l^T``
    exceeds the true outer product by ``Σ_m / M + Σ_r / R``, subtracted as ``tr(S^-1 (S_m / M + S_r / R))`` (the
    ratio of covariance estimates carries no inverse bias); and
    ``E b^T S^-1 b`` exceeds ``b^T Σ^-1 b``-type terms by ``n_s / (n_s - D - 1)``
    (``b`` is independent of ``S``), divided out.
    """
    from .merge import log_det_bias

    g, R, L, D = ref.shape
    M = x.shape[1]
    n_r, n_m = L * (R - 1), L * (M - 1)
    own_bias = 0.5 * (log_det_bias(n_r + 1, D) + log_det_bias(n_m + 1, D))
    out = np.empty(g)
    for i in range(g):
        cov_r = _within_cov(ref[i])
        cov_m = _within_cov(x[i])
        n_s = _satterthwaite_dof(cov_r, n_r, cov_m, n_m)
        logdet_bias = log_det_bias(n_s + 1, D) - own_bias
        inverse_bias = (n_s - D - 1) / n_s if n_s > D + 1 else 1.0
        b = x[i].mean(axis=0) - ref[i].mean(axis=0)
        chol = np.linalg.cholesky(0.5 * (cov_r + cov_m))
        white = np.linalg.solve(chol, b.T)
        noise = np.linalg.solve(chol, cov_m / M + cov_r / R)
        noise = np.linalg.solve(chol, noise.T)
        mean_term = 0.25 * (inverse_bias * float(np.sum(white**2)) / L
                            - float(np.trace(noise)))
        logdets = (2.0 * np.log(np.diag(chol)).sum()
                   - 0.5 * (np.linalg.slogdet(cov_r)[1] + np.linalg.slogdet(cov_m)[1]))
        out[i] = mean_term + logdets - logdet_bias
    return out


def _satterthwaite_dof(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> float:
    """Degrees of freedom of the Wishart matching ``W_a / n_a + W_b / n_b`` in two moments."""
    def moment(c):
        return float(np.sum(c * c.T)) + float(np.trace(c)) ** 2

    return moment(a + b) / (moment(a) / n_a + moment(b) / n_b)


def _within_cov(v: np.ndarray) -> np.ndarray:
    """Pooled within-location covariance of (S, L, D) samples: ``L (S-1)`` dof."""
    c = v - v.mean(axis=0, keepdims=True)
    flat = c.reshape(-1, c.shape[-1])
    return flat.T @ flat / (v.shape[1] * (v.shape[0] - 1))


def _logdets(v: np.ndarray, *, centred: bool, where: str) -> np.ndarray:
    """``log |S_g|`` of the sample covariance of each measurement of (g, S, L, D) vectors.

    Uncentred: the covariance (ddof=1) of the ``S L`` pooled vectors. Centred
    (``v`` already centred per location): the pooled within-location covariance,
    scatter over ``L (S-1)`` degrees of freedom.
    """
    g, S, L, D = v.shape
    if centred:
        flat = v.reshape(g, S * L, D)
        dof = L * (S - 1)
    else:
        flat = _groups(v)
        flat = flat - flat.mean(axis=1, keepdims=True)
        dof = S * L - 1
    cov = np.einsum("gnd,gne->gde", flat, flat) / dof
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"{where}: a reference covariance is singular ({dof} degrees of "
                         f"freedom in d={D}); the Gaussian inherent uncertainty needs more "
                         f"than d, in general position.") from None
    return 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
