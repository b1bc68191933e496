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


def block_statistics(g: np.ndarray, log_eps: np.ndarray, log_rho: np.ndarray,
                     log_nu: np.ndarray, *, d: int, n_blocks: int) -> dict:
    """Sufficient statistics of pooled k-NN queries, per jackknife block.

    The pooled estimates and their leave-one-block-out jackknife depend on the
    queries only through these sums, so a pooled unit returns ``n_blocks`` numbers
    per statistic whatever its number of queries, and units merge by adding them
    (:func:`combine_block_statistics`).

    Parameters
    ----------
    g : ndarray of int, shape (n,)
        Global measurement index of each query; its block is ``g mod n_blocks``.
    log_eps : ndarray, shape (n,)
        Log k-th neighbour distance of each pooled error among other errors.
    log_rho, log_nu : ndarray, shape (n,)
        Log k-th neighbour distance of each query's truth vector among other truth
        vectors (``rho``) and among model samples (``nu``).
    d : int
        Dimension of the vectors.
    n_blocks : int
        Jackknife blocks.

    Returns
    -------
    dict of str -> ndarray, each (n_blocks,)
        ``queries`` (all queries of the block), ``eps_zero`` (zero ``eps`` radii),
        ``eps_sum`` (sum of the other ``log_eps``), ``div_zero`` (queries with a zero
        ``rho`` or ``nu``), ``div_lse`` (log-sum-exp of ``(1 - 1/2) d (log_rho -
        log_nu)`` over the others; ``-inf`` for none).
    """
    blocks = np.asarray(g, dtype=np.int64) % n_blocks
    eps_ok = ~np.isneginf(log_eps)
    div_ok = ~(np.isneginf(log_rho) | np.isneginf(log_nu))
    terms = (1.0 - ALPHA) * d * (log_rho - log_nu)
    lse = np.full(n_blocks, -np.inf)
    for b in np.unique(blocks[div_ok]):
        lse[b] = logsumexp(terms[div_ok & (blocks == b)])
    return {"queries": np.bincount(blocks, minlength=n_blocks).astype(np.int64),
            "eps_zero": np.bincount(blocks[~eps_ok], minlength=n_blocks).astype(np.int64),
            "eps_sum": np.bincount(blocks[eps_ok], weights=log_eps[eps_ok],
                                   minlength=n_blocks).astype(np.float64),
            "div_zero": np.bincount(blocks[~div_ok], minlength=n_blocks).astype(np.int64),
            "div_lse": lse}


def combine_block_statistics(parts: list[dict]) -> dict:
    """Block statistics of several units' queries (sums; log-sum-exp for ``div_lse``)."""
    out = {name: np.sum([p[name] for p in parts], axis=0)
           for name in ("queries", "eps_zero", "eps_sum", "div_zero")}
    lse = np.stack([p["div_lse"] for p in parts])
    with np.errstate(divide="ignore"):
        out["div_lse"] = np.where(np.isneginf(lse).all(axis=0), -np.inf,
                                  logsumexp(lse, axis=0))
    return out


def _jackknife_se(thetas: np.ndarray) -> float:
    B = len(thetas)
    if B < 2:
        return math.nan
    return float(math.sqrt((B - 1) / B * np.sum((thetas - thetas.mean()) ** 2)))


def _check_zero_count(zero: int, total: int, policy: str, what: str) -> None:
    if zero and policy == "raise":
        raise ValueError(f"{zero} of {total} query points of {what} have a "
                         f"zero k-th neighbour distance (duplicate samples); pass "
                         f"duplicates='drop' (--duplicates drop) to leave them out, or "
                         f"dequantise the data.")


def pooled_uncertainty(stats: dict, *, k, d, G, L, n_blocks, duplicates) -> dict:
    """Kozachenko-Leonenko entropy power of pooled errors (neighbours: other measurements).

    Each query's candidates are ``(G-1) L`` vectors, so the constant is
    ``psi((G-1) L + 1) - psi(k) + log V_d``. ``stats`` are the combined
    :func:`block_statistics`; the leave-one-block-out values sum the other blocks.
    """
    zero = int(stats["eps_zero"].sum())
    _check_zero_count(zero, int(stats["queries"].sum()), duplicates, "the pooled errors")
    count = stats["queries"] - stats["eps_zero"]
    sums = stats["eps_sum"]
    const = (float(digamma((G - 1) * L + 1)) - float(digamma(k))
             + 0.5 * d * math.log(math.pi) - float(gammaln(0.5 * d + 1.0)))
    present = np.flatnonzero(count > 0)

    def h_of(use):
        n_used = float(np.sum(count[use]))
        return const + d * float(np.sum(sums[use])) / n_used if n_used else math.nan

    h = h_of(present)
    se_h = _jackknife_se(np.array([h_of(present[present != b]) for b in present]))
    n, se = _power_from_h(h, se_h, d)
    return _value(n, se, "kozachenko-leonenko entropy power, pooled over measurements "
                  "(neighbours from other measurements, one sample index at a time)",
                  int(count.sum()), k=k, entropy=_num(h), entropy_stderr=_num(se_h),
                  stderr_method=f"jackknife over {n_blocks} measurement blocks",
                  zero_radii=zero)


def pooled_perception(stats: dict, *, k, d, n_blocks, duplicates) -> dict:
    """Poczos-Schneider ``D_1/2`` between pooled truth and pooled model samples.

    ``rho`` and ``nu`` are both searched among ``(G-1) L`` vectors of other
    measurements, so the ``(n-1)/m`` factor of the estimator is 1. ``stats`` are the
    combined :func:`block_statistics`: a leave-one-block-out value takes the
    log-sum-exp of the other blocks' log-sum-exps (no difference of exponentials).
    """
    zero = int(stats["div_zero"].sum())
    _check_zero_count(zero, int(stats["queries"].sum()), duplicates,
                      "the pooled truth against the model")
    count = stats["queries"] - stats["div_zero"]
    lse = stats["div_lse"]
    log_b = float(2.0 * gammaln(k) - gammaln(k - ALPHA + 1.0) - gammaln(k + ALPHA - 1.0))
    present = np.flatnonzero(count > 0)

    def d_of(use):
        n_used = float(np.sum(count[use]))
        if not n_used:
            return math.nan
        return (float(logsumexp(lse[use])) - math.log(n_used) + log_b) / (ALPHA - 1.0)

    value = d_of(present)
    se = _jackknife_se(np.array([d_of(present[present != b]) for b in present]))
    return _value(value, se, "poczos-schneider renyi-1/2 between pooled truth and pooled "
                  "model samples (neighbours from other measurements)", int(count.sum()), k=k,
                  stderr_method=f"jackknife over {n_blocks} measurement blocks",
                  zero_radii=zero)


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
    # N(X|Y) <= N(X_G|Y) always holds; a k-NN estimate of N(X|Y) above the Gaussian
    # one is estimator bias (a few per cent at small samples), and with it no optimal
    # band would remain. The upper boundary of the call is then taken at the k-NN
    # value, so the call asks "significantly above the larger bound estimate"; the
    # report says so in `upper_note`.
    n_upper, se_upper = inh_g["value"], inh_g["stderr"] or 0.0
    if inh["value"] > n_upper:
        n_upper, se_upper = inh["value"], inh["stderr"] or 0.0
        bounds["upper_note"] = (f"inherent_uncertainty {inh['value']:.6g} exceeds "
                                f"inherent_uncertainty_gaussian {inh_g['value']:.6g} "
                                f"(impossible in truth: k-NN bias); the region call uses "
                                f"the larger value for the upper boundary")
    call = classify_region(unc["value"], P_used, d, inh["value"], n_upper,
                           uncertainty_stderr=unc["stderr"] or 0.0,
                           perception_stderr=per["stderr"] or 0.0,
                           n_inherent_stderr=inh["stderr"] or 0.0,
                           n_gaussian_stderr=se_upper)
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
            corr = settings.get("perception_correction")
            if corr:
                channel = f", {corr} bias correction" + channel
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
            stats = combine_block_statistics(mine)
            rep["uncertainty_pooled"] = pooled_uncertainty(
                stats, k=k, d=D, G=G, L=L, n_blocks=n_blocks, duplicates=settings["duplicates"])
            rep["perception_pooled"] = pooled_perception(
                stats, k=k, d=D, n_blocks=n_blocks, duplicates=settings["duplicates"])
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
