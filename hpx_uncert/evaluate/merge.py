"""Combine unit results into the report: per-measurement averages, pooled estimates.

Nothing here reads the archive: the report depends only on the part files (and
the archive summary they carry), in a fixed order, so the same parts always give
the same bytes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, gammaln, logsumexp

from .quantities import ARCHIVE_QUANTITIES, MODEL_QUANTITIES
from .streaming import BlockMoments

LOG_2PIE = math.log(2.0 * math.pi * math.e)
ALPHA = 0.5


def _value(value, stderr, method, n, **extra) -> dict:
    out = {"value": _num(value), "stderr": _num(stderr), "method": method, "n": int(n)}
    out.update(extra)
    return out


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    g = len(values)
    se = float(np.std(values, ddof=1) / math.sqrt(g)) if g > 1 else math.nan
    return float(np.mean(values)), se


def _power_from_h(h: float, se_h: float, d: int) -> tuple[float, float]:
    n = math.exp(2.0 * h / d - LOG_2PIE)
    return n, n * 2.0 / d * se_h


def _check_duplicates(log_r: np.ndarray, policy: str, what: str) -> np.ndarray:
    zero = np.isneginf(log_r)
    if zero.any() and policy == "raise":
        raise ValueError(f"{int(zero.sum())} of {len(log_r)} query points of {what} have a "
                         f"zero k-th neighbour distance (duplicate samples); pass "
                         f"duplicates='drop' (--duplicates drop) to leave them out, or "
                         f"dequantise the data.")
    return ~zero


def log_det_bias(n: float, d: int) -> float:
    """``E log|S| - log|Sigma|`` for the sample covariance (ddof=1) of n Gaussian vectors.

    ``(n-1) S`` is Wishart with ``n-1`` degrees of freedom, so
    ``E log|S| = log|Sigma| + sum_{i=1..d} psi((n-i)/2) + d log(2/(n-1))``.
    """
    i = np.arange(1, d + 1)
    return float(np.sum(digamma((n - i) / 2.0)) + d * math.log(2.0 / (n - 1)))


def conditional_power(h_values: np.ndarray, d: int, method: str) -> dict:
    """Entropy power from per-measurement entropies (average on h, then convert)."""
    h, se = _mean_se(h_values)
    n, se_n = _power_from_h(h, se, d)
    return _value(n, se_n, method, len(h_values), entropy=_num(h), entropy_stderr=_num(se))


def centring_shift(samples: int, d: int) -> float:
    """Entropy added back to vectors centred by the mean of their ``samples`` draws.

    Centring multiplies the covariance by ``(S-1)/S``, hence the entropy power by
    the same factor for Gaussians; ``(d/2) log(S/(S-1))`` nats undo it exactly
    (the same as scaling the centred vectors by ``sqrt(S/(S-1))``).
    """
    return 0.5 * d * math.log(samples / (samples - 1.0))


def gaussian_inherent(logdets: np.ndarray, n_vectors: int, d: int,
                      method: str = "gaussian log-det per measurement (wishart bias "
                                    "removed)") -> dict:
    """``N(X_G|Y) = exp(mean_g log|Sigma_g| / d)``, Wishart bias removed from each log|S_g|.

    ``n_vectors - 1`` is the degrees of freedom of each covariance.
    """
    corrected = logdets - log_det_bias(n_vectors, d)
    mean, se = _mean_se(corrected)
    n = math.exp(mean / d)
    return _value(n, n * se / d, method, len(logdets))


def gaussian_pooled(moments: BlockMoments, d: int) -> dict:
    """``|Sigma_err|^(1/d)`` of the pooled errors, jackknifed over measurement blocks."""

    def power(n, scatter):
        cov = scatter / (n - 1)
        sign, logdet = np.linalg.slogdet(cov)
        if sign <= 0:
            return math.nan
        return math.exp((logdet - log_det_bias(n, d)) / d)

    n, _, scatter = moments.total()
    value = power(n, scatter)
    thetas = []
    for b in range(len(moments.count)):
        nb, _, sb = moments.total(leave_out=b)
        thetas.append(power(nb, sb))
    thetas = np.array(thetas)
    B = len(thetas)
    se = float(math.sqrt((B - 1) / B * np.sum((thetas - thetas.mean()) ** 2)))
    return _value(value, se, "gaussian |cov|^(1/d) of pooled errors against truth "
                  "(wishart bias removed)", int(n),
                  stderr_method=f"jackknife over {B} measurement blocks")


def _block_jackknife(block: np.ndarray, n_blocks: int, stat) -> float:
    """Leave-one-block-out jackknife of ``stat(mask)``; blocks by measurement index."""
    ids = block % n_blocks
    present = np.unique(ids)
    if len(present) < 2:
        return math.nan
    thetas = np.array([stat(ids != b) for b in present])
    B = len(thetas)
    return float(math.sqrt((B - 1) / B * np.sum((thetas - thetas.mean()) ** 2)))


def pooled_uncertainty(g, log_eps, *, k, d, G, L, n_blocks, duplicates) -> dict:
    """Kozachenko-Leonenko entropy power of pooled errors (neighbours: other measurements).

    Each query's candidates are ``(G-1) L`` vectors, so the constant is
    ``psi((G-1) L + 1) - psi(k) + log V_d``.
    """
    keep = _check_duplicates(log_eps, duplicates, "the pooled errors")
    g, log_eps = g[keep], log_eps[keep]
    const = (float(digamma((G - 1) * L + 1)) - float(digamma(k))
             + 0.5 * d * math.log(math.pi) - float(gammaln(0.5 * d + 1.0)))

    def h_of(mask):
        return const + d * float(np.mean(log_eps[mask]))

    h = h_of(np.ones(len(g), bool))
    se_h = _block_jackknife(g, n_blocks, h_of)
    n, se = _power_from_h(h, se_h, d)
    return _value(n, se, "kozachenko-leonenko entropy power, pooled over measurements "
                  "(neighbours from other measurements, one sample index at a time)",
                  len(g), k=k, entropy=_num(h), entropy_stderr=_num(se_h),
                  stderr_method=f"jackknife over {n_blocks} measurement blocks",
                  zero_radii=int((~keep).sum()))


def pooled_perception(g, log_rho, log_nu, *, k, d, n_blocks, duplicates) -> dict:
    """Poczos-Schneider ``D_1/2`` between pooled truth and pooled model samples.

    ``rho`` and ``nu`` are both searched among ``(G-1) L`` vectors of other
    measurements, so the ``(n-1)/m`` factor of the estimator is 1.
    """
    keep = _check_duplicates(np.minimum(log_rho, log_nu), duplicates,
                             "the pooled truth against the model")
    g = g[keep]
    terms = (1.0 - ALPHA) * d * (log_rho[keep] - log_nu[keep])
    log_b = float(2.0 * gammaln(k) - gammaln(k - ALPHA + 1.0) - gammaln(k + ALPHA - 1.0))

    def d_of(mask):
        t = terms[mask]
        return (float(logsumexp(t)) - math.log(len(t)) + log_b) / (ALPHA - 1.0)

    value = d_of(np.ones(len(g), bool))
    se = _block_jackknife(g, n_blocks, d_of)
    return _value(value, se, "poczos-schneider renyi-1/2 between pooled truth and pooled "
                  "model samples (neighbours from other measurements)", len(g), k=k,
                  stderr_method=f"jackknife over {n_blocks} measurement blocks",
                  zero_radii=int((~keep).sum()))


def distortion(mse_values: np.ndarray, data_range) -> dict:
    mse, se = _mean_se(mse_values)
    out = _value(mse, se, "per-dimension MSE against truth", len(mse_values))
    if data_range is not None and mse > 0:
        out["psnr"] = _num(10.0 * math.log10(data_range**2 / mse))
        out["psnr_stderr"] = _num(10.0 / math.log(10.0) * se / mse)
        out["data_range"] = float(data_range)
    return out


def bounds_and_region(model_report: dict, archive_report: dict, d: int) -> tuple[dict, dict]:
    """Theorem 3's bounds at the model's perception and the region of its point."""
    from hpx_uncert.theory import classify_region, up_bounds

    inh = archive_report.get("inherent_uncertainty")
    inh_g = archive_report.get("inherent_uncertainty_gaussian")
    per = model_report.get("perception")
    unc = model_report.get("uncertainty")
    reasons = {}
    if per is None or inh is None or inh_g is None:
        missing = [n for n, v in (("perception", per), ("inherent_uncertainty", inh),
                                  ("inherent_uncertainty_gaussian", inh_g)) if v is None]
        why = f"needs {', '.join(missing)}"
        return None, None, {"bounds": why, "region": why}
    P = per["value"]
    clipped = P < 0
    P_used = max(P, 0.0)
    lower, upper = up_bounds(P_used, d, inh["value"], inh_g["value"])
    bounds = {"perception": P_used, "lower": _num(lower), "upper": _num(upper),
              "lower_method": "eta(P; d) * inherent_uncertainty",
              "upper_method": "eta(P; d) * inherent_uncertainty_gaussian",
              "d": d}
    if clipped:
        bounds["note"] = f"perception estimate {P:.6g} < 0 taken as 0 for the bounds"
    if unc is None:
        return bounds, None, {"region": "needs uncertainty"}
    call = classify_region(unc["value"], P_used, d, inh["value"], inh_g["value"],
                           uncertainty_stderr=unc["stderr"] or 0.0,
                           perception_stderr=per["stderr"] or 0.0,
                           n_inherent_stderr=inh["stderr"] or 0.0,
                           n_gaussian_stderr=inh_g["stderr"] or 0.0)
    region = {"region": call.region, "z_lower": _num(call.z_lower),
              "z_upper": _num(call.z_upper), "z": 2.0,
              "method": "uncertainty against eta(P; d) bounds, 2 standard errors"}
    return bounds, region, reasons


def gaussian_region(model_report: dict, archive_report: dict, d: int):
    """Region of the model in the Gaussian surrogate plane, from Gaussian-method values only.

    ``uncertainty_gaussian`` against ``eta(P_G; d) N(X_G|Y)`` with ``P_G`` the
    Gaussian-moment ``D_1/2``: for Gaussian surrogates the two bounds coincide, so
    the call is ``optimal``/``undetermined`` on the curve, ``suboptimal`` above it.
    These plug-ins are nearly unbiased where the k-NN divergence is not (small
    samples per measurement); for non-Gaussian posteriors they describe the
    surrogate, not the problem.
    """
    from hpx_uncert.theory import classify_region

    unc = model_report.get("uncertainty_gaussian")
    per = model_report.get("perception_gaussian")
    inh_g = archive_report.get("inherent_uncertainty_gaussian")
    if unc is None or per is None or inh_g is None or per["value"] is None:
        return None
    call = classify_region(unc["value"], max(per["value"], 0.0), d, inh_g["value"],
                           inh_g["value"], uncertainty_stderr=unc["stderr"] or 0.0,
                           perception_stderr=per["stderr"] or 0.0,
                           n_inherent_stderr=inh_g["stderr"] or 0.0,
                           n_gaussian_stderr=inh_g["stderr"] or 0.0)
    return {"region": call.region, "z_lower": _num(call.z_lower),
            "z_upper": _num(call.z_upper), "z": 2.0,
            "method": "uncertainty_gaussian against eta(perception_gaussian; d) * "
                      "inherent_uncertainty_gaussian, 2 standard errors"}


def assemble(parts: list[tuple[dict, dict]], meta: dict) -> dict:
    """The report from every unit result ``(arrays, meta)`` of one run."""
    info = meta["archive"]
    settings = meta["settings"]
    models = meta["models"]
    k = settings["k"]
    L, D, G = info["L"], info["D"], info["G"]
    n_blocks = settings["jackknife_blocks"]
    cond = sorted((p for p in parts if p[1]["kind"] == "conditional"),
                  key=lambda p: p[1]["uid"])
    pooled = sorted((p for p in parts if p[1]["kind"] == "pooled"), key=lambda p: p[1]["uid"])

    def gather(name):
        chunks = [(a["index"], a[name]) for a, _ in cond if name in a]
        if not chunks:
            return None
        idx = np.concatenate([c[0] for c in chunks])
        val = np.concatenate([c[1] for c in chunks])
        return val[np.argsort(idx, kind="stable")]

    k_method = f"kozachenko-leonenko entropy power per measurement, h averaged (k={k})"
    centre = bool(settings.get("centre"))
    own = ("; patches centred per location by the mean of their {n} draws, entropy power "
           "divided by ({n}-1)/{n} (exact for Gaussian posteriors)")
    a_reasons = dict(meta["reasons"]["archive"])
    archive_rep: dict = {q: None for q in ARCHIVE_QUANTITIES}
    R = info["R"]
    if "inherent_uncertainty" not in a_reasons:
        h = gather("ref_h")
        archive_rep["inherent_uncertainty"] = (
            conditional_power(h + centring_shift(R, D), D, k_method + own.format(n=R))
            if centre else conditional_power(h, D, k_method))
    if "inherent_uncertainty_gaussian" not in a_reasons:
        archive_rep["inherent_uncertainty_gaussian"] = (
            gaussian_inherent(gather("ref_logdet"), L * (R - 1) + 1, D,
                              "gaussian log-det of the within-location covariance per "
                              "measurement (L(R-1) degrees of freedom, wishart bias removed)")
            if centre else gaussian_inherent(gather("ref_logdet"), R * L, D))

    data_range = settings["data_range"]
    if data_range is None:
        data_range = info.get("data_range")
    model_reps = {}
    for i, m in enumerate(models):
        why = dict(meta["reasons"]["models"][m])
        rep: dict = {q: None for q in MODEL_QUANTITIES}
        if "uncertainty" not in why:
            rep["uncertainty"] = conditional_power(gather(f"m{i}_unc_h"), D,
                                                   f"{k_method}, paired errors x̂ - x_ref")
        if "spread" not in why:
            h = gather(f"m{i}_spread_h")
            M = info["samples_per_model"][m]
            rep["spread"] = (conditional_power(h + centring_shift(M, D), D,
                                               k_method + own.format(n=M))
                             if centre else conditional_power(h, D, k_method))
        if "perception" not in why:
            channel = ("; reference draws and model samples centred per location by "
                       "leave-out means of R-1 reference draws (both laws smoothed by the "
                       "same independent noise: a lower bound)" if centre else "")
            dh = gather(f"m{i}_dhalf")
            v, se = _mean_se(dh)
            rep["perception"] = _value(v, se, f"poczos-schneider renyi-1/2 per measurement, "
                                       f"averaged (k={k}){channel}", len(dh))
            h2 = -np.expm1(-dh / 2.0)
            v, se = _mean_se(h2)
            rep["hellinger2"] = _value(v, se, "1 - exp(-D_1/2 / 2) per measurement, averaged"
                                       + channel, len(h2))
            kl = gather(f"m{i}_kl")
            v, se = _mean_se(kl)
            rep["kl"] = _value(v, se, f"wang-kulkarni-verdu per measurement, averaged (k={k})"
                               + channel, len(kl))
        if "perception_gaussian" not in why:
            dg = gather(f"m{i}_dhalf_gauss")
            v, se = _mean_se(dg)
            rep["perception_gaussian"] = _value(
                v, se, "closed-form D_1/2 between Gaussians with within-location covariances "
                "and per-location mean differences (their sampling noise removed), averaged "
                "over locations and measurements" if centre else
                "closed-form D_1/2 between Gaussians with the sample moments, per "
                "measurement, averaged" + ("" if L > 1 else " (sampling biases of the "
                                            "moments removed)"), len(dg))
        if "distortion" not in why:
            rep["distortion"] = distortion(gather(f"m{i}_mse"), data_range)
        if "uncertainty_gaussian" not in why:
            mom = None
            for a, _ in cond:
                part = BlockMoments.from_arrays(a, f"m{i}_err_")
                if mom is None:
                    mom = part
                else:
                    mom.merge(part)
            rep["uncertainty_gaussian"] = gaussian_pooled(mom, D)
        mine = [a for a, pm in pooled if pm["model"] == m]
        if mine and "uncertainty_pooled" not in why:
            g = np.concatenate([a["g"] for a in mine])
            rep["uncertainty_pooled"] = pooled_uncertainty(
                g, np.concatenate([a["log_eps"] for a in mine]), k=k, d=D, G=G, L=L,
                n_blocks=n_blocks, duplicates=settings["duplicates"])
            rep["perception_pooled"] = pooled_perception(
                g, np.concatenate([a["log_rho"] for a in mine]),
                np.concatenate([a["log_nu"] for a in mine]), k=k, d=D, n_blocks=n_blocks,
                duplicates=settings["duplicates"])
        bounds, region, extra = bounds_and_region(rep, archive_rep, D)
        rep["bounds"], rep["region"] = bounds, region
        rep["region_gaussian"] = gaussian_region(rep, archive_rep, D)
        why.update(extra)
        rep["reasons"] = {q: why[q] for q in sorted(why) if rep.get(q) is None}
        model_reps[m] = rep
    archive_rep["reasons"] = {q: a_reasons[q] for q in sorted(a_reasons)}
    return {"format": "hpx_uncert report v1",
            "archive": {key: info[key] for key in sorted(info)},
            "settings": settings,
            "units": "entropy powers and MSE in squared signal units; divergences in nats",
            **archive_rep,
            "models": model_reps}
            corr = settings.get("perception_correction")
            if corr:
                channel = f", {corr} bias correction" + channel
