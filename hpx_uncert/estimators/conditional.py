"""Conditional (grouped) estimators: the paper's ``E_y[...]`` over measurements.

Samples come in groups, one per measurement ``y``: a (G, M, d) array or a list
of G arrays of shape (M_g, d). Each group is estimated on its own (neighbours
only within the group, or group g of p against group g of q) and the per-group
values are averaged with equal weights:

- ``h(X|Y) = mean_g h_g`` and ``N(X|Y) = exp(2 h(X|Y)/d) / (2 pi e)`` (the average is
  taken on h, not on N);
- ``D(X, X^|Y) = mean_g D_g`` for KL and Renyi, and ``mean_g H^2_g`` for Hellinger.

With ``correction=None`` all groups go through one batched neighbour search, and
so do the Gaussian surrogates of ``correction="gaussian"`` for the divergences;
other corrections estimate each group with the single-sample function.

Standard error: ``std_g / sqrt(G)`` of the per-group values (G >= 2); for one
group, the single-sample jackknife. ``details["group_values"]`` holds the G values.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma

from hpx_uncert._checks import check_groups
from hpx_uncert._estimate import Estimate

from ._constants import log_renyi_bias, log_unit_ball_volume
from ._params import check_alpha, check_duplicates
from ._search import SearchOptions, grouped_log_radii
from .corrections import SYMMETRIC, check_correction
from .divergence import hellinger2, kl_divergence, renyi_divergence
from .duplicates import apply_duplicates_policy, zero_radius_mask
from .entropy import as_entropy_power, entropy
from .stderr import group_spread


def _check_group_sizes(groups: list[np.ndarray], k: int, name: str, *, self_search: bool) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"The 'k' parameter must be an int in the range [1, inf). "
                         f"Got {k!r} instead.")
    need = k + 1 if self_search else k
    for g, grp in enumerate(groups):
        if len(grp) < need:
            raise ValueError(f"group {g} of {name} has {len(grp)} samples, but k={k} needs at "
                             f"least {need} per group; use a smaller k or more samples per "
                             f"group.")


def _load_pair(p, q, k):
    pg, qg = check_groups(p, "p"), check_groups(q, "q")
    if len(pg) != len(qg):
        raise ValueError(f"p and q must hold the same number of groups (one per measurement); "
                         f"got G={len(pg)} and G={len(qg)}.")
    if pg[0].shape[1] != qg[0].shape[1]:
        raise ValueError(f"p and q must have the same number of features; got "
                         f"d={pg[0].shape[1]} and d={qg[0].shape[1]}.")
    _check_group_sizes(pg, k, "p", self_search=True)
    _check_group_sizes(qg, k, "q", self_search=False)
    return pg, qg


def _group_ids(groups: list[np.ndarray]) -> np.ndarray:
    return np.repeat(np.arange(len(groups)), [len(g) for g in groups])


def _kept_means(terms: np.ndarray, ids: np.ndarray, keep: np.ndarray, n_groups: int,
                name: str) -> np.ndarray:
    counts = np.bincount(ids[keep], minlength=n_groups)
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        raise ValueError(f"group {empty[0]} of {name} has no point left after "
                         f"duplicates='drop' (all its k-NN radii are zero); dequantise the "
                         f"data or use a larger k.")
    return np.bincount(ids[keep], weights=terms[keep], minlength=n_groups) / counts


def _kept_log_mean_exp(terms: np.ndarray, ids: np.ndarray, keep: np.ndarray,
                       n_groups: int, name: str) -> np.ndarray:
    _kept_means(np.zeros_like(terms), ids, keep, n_groups, name)
    peak = np.full(n_groups, -np.inf)
    np.maximum.at(peak, ids[keep], terms[keep])
    sums = np.bincount(ids[keep], weights=np.exp(terms[keep] - peak[ids[keep]]),
                       minlength=n_groups)
    counts = np.bincount(ids[keep], minlength=n_groups)
    return peak + np.log(sums) - np.log(counts)


def _combine(values: np.ndarray, *, d: int, k: int, method: str, details: dict) -> Estimate:
    stderr, how = group_spread(values)
    return Estimate(float(np.mean(values)), stderr, n=len(values), d=d, k=k, method=method,
                    stderr_method=how,
                    details={**details, "n_groups": len(values),
                             "group_std": float(np.std(values, ddof=1)) if len(values) > 1
                             else math.nan,
                             "group_values": tuple(float(v) for v in values)})


def _per_group(single, groups, *, d: int, k: int, **kwargs) -> Estimate:
    """Estimate each group with the single-sample function (corrections, one group)."""
    estimates = [single(*grp, k=k, **kwargs) for grp in groups]
    first = estimates[0]
    if len(estimates) == 1:
        return first.replace(method=f"conditional {first.method}",
                             details={"n_groups": 1, "group_values": (first.value,)})
    details = {key: first.details[key] for key in ("knn_method", "correction", "units",
                                                    "duplicates", "alpha") if key in first.details}
    details["zero_radii"] = sum(int(e.details.get("zero_radii", 0)) for e in estimates)
    return _combine(np.array([e.value for e in estimates]), d=d, k=k,
                    method=f"conditional {first.method}", details=details)


def conditional_entropy(x, *, k: int = 5, correction: str | None = None,
                        duplicates: str = "raise", knn_method: str = "auto",
                        memory_budget=None, device: str = "cpu") -> Estimate:
    """Conditional entropy ``h(X|Y) = E_y h(X | Y=y)`` from groups of samples, in nats.

    Parameters
    ----------
    x : array-like of shape (G, M, d), or list of G arrays of shape (M_g, d)
        Group g holds draws of ``X | Y=y_g``; each group needs more than k samples.
    k : int, default 5
        Neighbour order of the Kozachenko-Leonenko estimator within each group.
    correction : {None, "whiten"} or a registered name, default None
        Applied per group (whitening then needs M_g > d).
    duplicates : {"raise", "drop"}, default "raise"
        Zero-radius policy, see ``hpx_uncert.estimators.duplicates``.
    knn_method, memory_budget, device
        Forwarded to the neighbour search of the per-group path.

    Returns
    -------
    Estimate
        Mean of the per-group entropies; ``n`` is G; ``stderr`` their spread
        ``std / sqrt(G)``; ``details["group_values"]`` the G entropies.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(40, 200, 1))
    >>> e = conditional_entropy(x)  # 0.5 log(2 pi e) = 1.419
    >>> abs(e.value - 1.419) < 3 * e.stderr
    True
    """
    groups = check_groups(x, "x")
    _check_group_sizes(groups, k, "x", self_search=True)
    duplicates = check_duplicates(duplicates)
    correction = check_correction(correction, "entropy")
    d = groups[0].shape[1]
    options = SearchOptions(knn_method, memory_budget, device)
    if correction is not None or len(groups) == 1:
        return _per_group(entropy, [(g,) for g in groups], d=d, k=k, correction=correction,
                          duplicates=duplicates, knn_method=knn_method,
                          memory_budget=memory_budget, device=device)
    log_r, search = grouped_log_radii(groups, None, k, options)
    zero = zero_radius_mask(log_r)
    keep = apply_duplicates_policy(zero, duplicates, name="x (all groups)")
    ids = _group_ids(groups)
    sizes = np.array([len(g) for g in groups])
    offsets = digamma(sizes) - float(digamma(k)) + log_unit_ball_volume(d)
    values = offsets + d * _kept_means(log_r, ids, keep, len(groups), "x")
    return _combine(values, d=d, k=k, method="conditional kozachenko-leonenko",
                    details={"knn_method": search, "correction": None, "units": "nats",
                             "duplicates": duplicates, "zero_radii": int(zero.sum())})


def conditional_entropy_power(x, *, k: int = 5, correction: str | None = None,
                              duplicates: str = "raise", knn_method: str = "auto",
                              memory_budget=None, device: str = "cpu") -> Estimate:
    """Conditional entropy power ``N(X|Y) = exp(2 h(X|Y) / d) / (2 pi e)``.

    ``h(X|Y)`` is :func:`conditional_entropy` (the average over groups is taken on
    h, not on N); parameters are the same. The standard error follows by the
    delta method.

    Returns
    -------
    Estimate
        ``value`` in squared units of x; ``details["entropy"]`` holds ``h(X|Y)``.
    """
    h = conditional_entropy(x, k=k, correction=correction, duplicates=duplicates,
                            knn_method=knn_method, memory_budget=memory_budget, device=device)
    return as_entropy_power(h)


def _batched(correction, groups) -> bool:
    """Whether a pair estimate goes through the batched grouped search.

    Uncorrected and Gaussian-surrogate estimates of several groups do (the
    surrogates are grouped samples too); other corrections transform each group
    on its own and go through the single-sample function.
    """
    return correction in (None, "gaussian") and len(groups) > 1


def _pair_truth(what, p, q) -> float:
    from hpx_uncert.theory import normal

    args = (p.mean, p.cov, q.mean, q.cov)
    if what == "kl":
        return normal.normal_kl(*args)
    if what == "hellinger2":
        return normal.normal_hellinger2(*args)
    return normal.normal_renyi(*args, what[1])


def _corrected_values(values_of, pg, qg, duplicates, correction, what):
    """Per-group values, minus each group's Gaussian-surrogate bias when asked.

    Group g's surrogates are drawn exactly as the single-sample ``"gaussian"``
    correction draws them (repeat r: ``default_rng([SURROGATE_SEED, r])``, the p
    sample then the q sample, with group g's moments), so the batched result
    equals the per-group loop; the surrogates of all groups share one batched
    search per repeat instead of 2 G single searches.
    """
    values, details = values_of(pg, qg, duplicates)
    if correction is None:
        return values, details
    from .surrogate import SURROGATE_REPEATS, SURROGATE_SEED, Moments

    moments = [(Moments.of(p), Moments.of(q)) for p, q in zip(pg, qg)]
    truth = np.array([_pair_truth(what, mp, mq) for mp, mq in moments])
    surrogate = np.zeros(len(pg))
    for r in range(SURROGATE_REPEATS):
        draws = []
        for mp, mq in moments:
            rng = np.random.default_rng([SURROGATE_SEED, r])
            draws.append((mp.draw(rng), mq.draw(rng)))
        surrogate += values_of([a for a, _ in draws], [b for _, b in draws], "raise")[0]
    bias = surrogate / SURROGATE_REPEATS - truth
    details = {**details, "correction": "gaussian", "uncorrected_mean": float(np.mean(values)),
               "surrogate_bias_mean": float(np.mean(bias)),
               "surrogate_repeats": SURROGATE_REPEATS}
    return values - bias, details


def _pair_log_radii(pg, qg, k, duplicates, options):
    log_rho, search = grouped_log_radii(pg, None, k, options)
    log_nu, _ = grouped_log_radii(pg, qg, k, options)
    zero = zero_radius_mask(log_rho, log_nu)
    keep = apply_duplicates_policy(zero, duplicates, name="p (within its group or against q)")
    details = {"knn_method": search, "correction": None, "duplicates": duplicates,
               "zero_radii": int(zero.sum())}
    return log_rho, log_nu, keep, details


def conditional_kl_divergence(p, q, *, k: int = 5, correction: str | None = None,
                              duplicates: str = "raise", knn_method: str = "auto",
                              memory_budget=None, device: str = "cpu") -> Estimate:
    """Conditional KL divergence ``E_y D(p_{X|Y=y} || q_{X|Y=y})``, in nats.

    Parameters
    ----------
    p, q : array-like of shape (G, M, d), or lists of G arrays of shape (M_g, d)
        Group g of p and group g of q hold draws given the same measurement.
        p groups need more than k samples, q groups at least k.
    k, correction, duplicates, knn_method, memory_budget, device
        As in :func:`hpx_uncert.estimators.divergence.kl_divergence`, per group.

    Returns
    -------
    Estimate
        Mean of the per-group Wang-Kulkarni-Verdu estimates, ``stderr`` their
        spread ``std / sqrt(G)``.
    """
    pg, qg = _load_pair(p, q, k)
    duplicates = check_duplicates(duplicates)
    correction = check_correction(correction, "divergence")
    d = pg[0].shape[1]
    if not _batched(correction, pg):
        return _per_group(kl_divergence, list(zip(pg, qg)), d=d, k=k, correction=correction,
                          duplicates=duplicates, knn_method=knn_method,
                          memory_budget=memory_budget, device=device)
    options = SearchOptions(knn_method, memory_budget, device)

    def values_of(pg, qg, duplicates):
        log_rho, log_nu, keep, details = _pair_log_radii(pg, qg, k, duplicates, options)
        ids = _group_ids(pg)
        n = np.array([len(g) for g in pg], dtype=np.float64)
        m = np.array([len(g) for g in qg], dtype=np.float64)
        terms = np.where(keep, d * (log_nu - log_rho), 0.0)
        return _kept_means(terms, ids, keep, len(pg), "p") + np.log(m / (n - 1)), details

    values, details = _corrected_values(values_of, pg, qg, duplicates, correction, "kl")
    return _combine(values, d=d, k=k, method="conditional wang-kulkarni-verdu",
                    details={**details, "units": "nats"})


def _grouped_renyi_lme(pg, qg, k, alpha, duplicates, options):
    log_rho, log_nu, keep, details = _pair_log_radii(pg, qg, k, duplicates, options)
    ids = _group_ids(pg)
    n = np.array([len(g) for g in pg], dtype=np.float64)[ids]
    m = np.array([len(g) for g in qg], dtype=np.float64)[ids]
    d = pg[0].shape[1]
    with np.errstate(invalid="ignore"):
        terms = (1.0 - alpha) * (np.log(n - 1) - np.log(m) + d * (log_rho - log_nu))
    lme = _kept_log_mean_exp(np.where(keep, terms, 0.0), ids, keep, len(pg), "p")
    return lme, log_renyi_bias(k, alpha), details


def conditional_renyi_divergence(p, q, *, alpha: float = 0.5, k: int = 5,
                                 correction: str | None = None, duplicates: str = "raise",
                                 knn_method: str = "auto", memory_budget=None,
                                 device: str = "cpu") -> Estimate:
    """Conditional Renyi divergence ``E_y D_alpha(p_{X|Y=y} || q_{X|Y=y})``, in nats.

    The paper's perception index at ``alpha = 1/2``. Parameters as in
    :func:`conditional_kl_divergence`, plus ``alpha`` (``alpha > 0``, ``!= 1``,
    ``k > |alpha - 1|``).

    Returns
    -------
    Estimate
        Mean of the per-group Poczos-Schneider estimates, ``stderr`` their spread.
    """
    pg, qg = _load_pair(p, q, k)
    alpha = check_alpha(alpha, k)
    duplicates = check_duplicates(duplicates)
    correction = check_correction(correction, SYMMETRIC if alpha == 0.5 else "divergence")
    d = pg[0].shape[1]
    if not _batched(correction, pg):
        return _per_group(renyi_divergence, list(zip(pg, qg)), d=d, k=k, alpha=alpha,
                          correction=correction, duplicates=duplicates, knn_method=knn_method,
                          memory_budget=memory_budget, device=device)
    options = SearchOptions(knn_method, memory_budget, device)

    def values_of(pg, qg, duplicates):
        lme, log_b, details = _grouped_renyi_lme(pg, qg, k, alpha, duplicates, options)
        return (lme + log_b) / (alpha - 1.0), details

    values, details = _corrected_values(values_of, pg, qg, duplicates, correction,
                                        ("renyi", alpha))
    return _combine(values, d=d, k=k, method="conditional poczos-schneider",
                    details={**details, "units": "nats", "alpha": alpha})


def conditional_hellinger2(p, q, *, k: int = 5, correction: str | None = None,
                           duplicates: str = "raise", knn_method: str = "auto",
                           memory_budget=None, device: str = "cpu") -> Estimate:
    """Conditional squared Hellinger distance ``E_y H^2(p_{X|Y=y}, q_{X|Y=y})``.

    ``H^2_g = 1 - BC_g`` per group from the k-NN alpha = 1/2 sum, then averaged.
    Parameters as in :func:`conditional_kl_divergence`.

    Returns
    -------
    Estimate
        Mean of the per-group ``H^2`` (dimensionless), ``stderr`` their spread.
    """
    pg, qg = _load_pair(p, q, k)
    duplicates = check_duplicates(duplicates)
    correction = check_correction(correction, SYMMETRIC)
    d = pg[0].shape[1]
    if not _batched(correction, pg):
        return _per_group(hellinger2, list(zip(pg, qg)), d=d, k=k, correction=correction,
                          duplicates=duplicates, knn_method=knn_method,
                          memory_budget=memory_budget, device=device)
    options = SearchOptions(knn_method, memory_budget, device)

    def values_of(pg, qg, duplicates):
        lme, log_b, details = _grouped_renyi_lme(pg, qg, k, 0.5, duplicates, options)
        return -np.expm1(lme + log_b), details

    values, details = _corrected_values(values_of, pg, qg, duplicates, correction,
                                        "hellinger2")
    return _combine(values, d=d, k=k, method="conditional poczos-schneider hellinger2",
                    details={**details, "units": "dimensionless"})
