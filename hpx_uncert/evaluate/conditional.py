"""The conditional work unit: everything computed within measurements of one shard.

For each measurement ``g`` of the shard it records the per-measurement estimates
(entropies of the reference, of each model's samples and of the paired errors,
divergences between reference and model, the log-determinant of the reference
covariance, the MSE against truth) and feeds the errors against truth into
mergeable moments. The merge averages the per-measurement values over the whole
archive, which is exactly ``E_y`` of the paper.
"""

from __future__ import annotations

import numpy as np

from .quantities import archive_reasons, model_reasons
from .streaming import BlockMoments
from .views import as_vectors, vector_shape

#: Blocks read by a unit hold at most this share of the memory budget: the float64
#: vectors, the errors and the neighbour search need the rest.
BLOCK_SHARE = 6


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

    L, D = vector_shape(archive, settings)
    k = settings.k
    opts = {"k": k, "correction": settings.correction, "duplicates": settings.duplicates,
            "memory_budget": settings.memory_budget, "device": settings.device}
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
            if "inherent_uncertainty" not in a_why:
                put("ref_h", _group_values(_with_context(
                    f"{where}, reference", conditional_entropy, _groups(ref), **opts)))
            if "inherent_uncertainty_gaussian" not in a_why:
                put("ref_logdet", _logdets(_groups(ref), where=f"{where}, reference"))
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
                    f"{ctx}, spread", conditional_entropy, _groups(x), **opts)))
            if ref is not None and "uncertainty" not in why:
                p = min(x.shape[1], ref.shape[1])
                put(f"m{i}_unc_h", _group_values(_with_context(
                    f"{ctx}, paired errors", conditional_entropy,
                    _groups(x[:, :p] - ref[:, :p]), **opts)))
            if ref is not None and "perception" not in why:
                rg, xg = _groups(ref), _groups(x)
                put(f"m{i}_dhalf", _group_values(_with_context(
                    f"{ctx}, perception", conditional_renyi_divergence, rg, xg, alpha=0.5,
                    **opts)))
                put(f"m{i}_kl", _group_values(_with_context(
                    f"{ctx}, kl", conditional_kl_divergence, rg, xg, **opts)))
            if ref is not None and "perception_gaussian" not in why:
                put(f"m{i}_dhalf_gauss", _gaussian_d_half(_groups(ref), _groups(x)))
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


def _logdets(groups: np.ndarray, *, where: str) -> np.ndarray:
    """``log |S_g|`` of the sample covariance (ddof=1) of each group (g, n, D)."""
    centred = groups - groups.mean(axis=1, keepdims=True)
    cov = np.einsum("gnd,gne->gde", centred, centred) / (groups.shape[1] - 1)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"{where}: a reference covariance is singular (n={groups.shape[1]} "
                         f"vectors in d={groups.shape[2]}); the Gaussian inherent uncertainty "
                         f"needs n > d samples in general position.") from None
    return 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
