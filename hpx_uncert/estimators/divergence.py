"""k-NN divergence estimators between two samples (Euclidean norm, nats).

With ``x_1..x_n ~ p`` and ``y_1..y_m ~ q``, ``rho_k(i)`` the k-th neighbour
distance of ``x_i`` among the other x's and ``nu_k(i)`` among the y's:

- KL (Wang, Kulkarni, Verdu [1]_):
  ``D = (d/n) sum_i log(nu_k(i) / rho_k(i)) + log(m / (n-1))``.
- Renyi of order alpha (Poczos, Schneider [2]_):
  ``D_alpha = 1/(alpha-1) log[(1/n) sum_i ((n-1) rho^d / (m nu^d))^(1-alpha) B_{k,alpha}]``
  with ``B_{k,alpha} = Gamma(k)^2 / (Gamma(k-alpha+1) Gamma(k+alpha-1))``, summed in
  the log domain (``d log rho``, never ``rho^d``, which overflows at d = 81).
- Squared Hellinger distance ``H^2 = 1 - BC`` with ``BC`` the alpha = 1/2 sum.

At finite n these estimates can fall below 0 (and H^2 outside [0, 1]); they are
returned as computed, never clamped.

References
----------
.. [1] Q. Wang, S. R. Kulkarni, S. Verdu, "Divergence estimation for multidimensional
   densities via k-nearest-neighbor distances", IEEE Trans. Inf. Theory 55(5), 2009.
.. [2] B. Poczos, J. Schneider, "On the estimation of alpha-divergences", AISTATS 2011.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.special import logsumexp

from hpx_uncert._checks import check_k, check_same_dim, check_samples
from hpx_uncert._estimate import Estimate

from ._constants import log_renyi_bias
from ._params import check_alpha, check_duplicates, check_k_reference, check_n_blocks
from ._search import Candidates, SearchOptions, cross_candidates, self_candidates
from .corrections import SYMMETRIC, apply_correction, check_correction
from .duplicates import apply_duplicates_policy, zero_radius_mask
from .stderr import JACKKNIFE_EXTRA, block_ids, block_jackknife

KL_METHOD = "wang-kulkarni-verdu"
RENYI_METHOD = "poczos-schneider"

_COMMON_PARAMS = """k : int, default 5
        Neighbour order: ``k < n`` (self search in p) and ``k <= m``.
    correction : {None, "whiten"} or a registered name, default None
        None computes the textbook formula exactly. ``"whiten"`` maps both samples
        by the same whitening (pooled covariance) first; see
        ``hpx_uncert.estimators.corrections``.
    duplicates : {"raise", "drop"}, default "raise"
        What a zero radius (``rho`` or ``nu``) does; see
        ``hpx_uncert.estimators.duplicates``.
    n_blocks : int, default 100
        Blocks of the jackknife standard error; each leave-out drops a block of p
        and a block of q (see ``hpx_uncert.estimators.stderr``).
    knn_method, memory_budget, device
        Forwarded to ``hpx_uncert.neighbors.knn_distances``."""


@dataclass(frozen=True)
class _PairRadii:
    """Neighbour candidates of the points of p, within p (rho) and among q (nu)."""

    rho: Candidates
    nu: Candidates
    keep: np.ndarray
    n: int
    m: int
    d: int
    details: dict

    def leave_out(self, n_blocks: int):
        """Yield, per jackknife block, (log rho, log nu, n', m') of the remaining p points."""
        bp, bq = block_ids(self.n, n_blocks), block_ids(self.m, n_blocks)
        blocks = min(int(bp.max()), int(bq.max())) + 1
        bp, bq = bp % blocks, bq % blocks
        for b in range(blocks):
            out_p, out_q = bp == b, bq == b
            log_rho = self.rho.log_radii_without(out_p)[~out_p]
            log_nu = self.nu.log_radii_without(out_q)[~out_p]
            ok = ~(np.isneginf(log_rho) | np.isneginf(log_nu))
            yield (log_rho[ok], log_nu[ok], self.n - int(out_p.sum()),
                   self.m - int(out_q.sum()))

    def jackknife(self, statistic, n_blocks: int) -> tuple[float, str]:
        """Block jackknife of ``statistic(log_rho, log_nu, n, m)``."""
        thetas = [statistic(*part) for part in self.leave_out(n_blocks)]
        return block_jackknife(lambda b: thetas[b], len(thetas))


def _prepare(p, q, k, duplicates, n_blocks, correction, kind="divergence"):
    p = check_samples(p, "p", min_n=2)
    q = check_samples(q, "q", min_n=1)
    check_same_dim(p, q)
    k = check_k(k, len(p), "p")
    check_k_reference(k, len(q), "q")
    return (p, q, k, check_duplicates(duplicates), check_n_blocks(n_blocks),
            check_correction(correction, kind))


def _pair_radii(p: np.ndarray, q: np.ndarray, k: int, duplicates: str,
                options: SearchOptions) -> _PairRadii:
    rho = self_candidates(p, k, options, extra=JACKKNIFE_EXTRA)
    nu = cross_candidates(p, q, k, options, extra=JACKKNIFE_EXTRA)
    zero_rho, zero_nu = zero_radius_mask(rho.log_radii), zero_radius_mask(nu.log_radii)
    keep = apply_duplicates_policy(zero_rho | zero_nu, duplicates, name="p (within p or against q)")
    method = rho.method if rho.method == nu.method else f"{rho.method}/{nu.method}"
    details = {"knn_method": method, "correction": None, "units": "nats",
               "n_samples": (len(p), len(q)), "duplicates": duplicates,
               "zero_radii": int((~keep).sum()), "zero_radii_within_p": int(zero_rho.sum()),
               "zero_radii_against_q": int(zero_nu.sum())}
    return _PairRadii(rho, nu, keep, len(p), len(q), p.shape[1], details)


def _dispatch(correction, p, q, estimate):
    if correction is None:
        return estimate(p, q)
    return apply_correction(correction, (p, q), estimate)


def kl_divergence(p, q, *, k: int = 5, correction: str | None = None,
                  duplicates: str = "raise", n_blocks: int = 100, knn_method: str = "auto",
                  memory_budget=None, device: str = "cpu") -> Estimate:
    """KL divergence ``D(p || q)`` by the Wang-Kulkarni-Verdu k-NN estimator.

    Parameters
    ----------
    p : array-like of shape (n, d)
        Samples of the first distribution (the expectation is taken under p).
    q : array-like of shape (m, d)
        Samples of the second distribution.
    {common}

    Returns
    -------
    Estimate
        ``value`` in nats, ``n`` the number of p points that entered.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p, q = rng.normal(size=(3000, 1)), rng.normal(1.0, 1.0, size=(3000, 1))
    >>> e = kl_divergence(p, q)  # closed form: 0.5
    >>> abs(e.value - 0.5) < 3 * e.stderr
    True
    """
    p, q, k, duplicates, n_blocks, correction = _prepare(p, q, k, duplicates, n_blocks, correction)
    estimate = partial(_wkv, k=k, duplicates=duplicates, n_blocks=n_blocks,
                       options=SearchOptions(knn_method, memory_budget, device))
    return _dispatch(correction, p, q, estimate)


def _wkv(p, q, *, k, duplicates, n_blocks, options) -> Estimate:
    r = _pair_radii(p, q, k, duplicates, options)

    def statistic(log_rho, log_nu, n, m):
        return r.d * float(np.mean(log_nu - log_rho)) + math.log(m / (n - 1))

    value = statistic(r.rho.log_radii[r.keep], r.nu.log_radii[r.keep], r.n, r.m)
    stderr, stderr_method = r.jackknife(statistic, n_blocks)
    return Estimate(value, stderr, n=int(r.keep.sum()), d=r.d, k=k, method=KL_METHOD,
                    stderr_method=stderr_method, details=r.details)


def renyi_divergence(p, q, *, alpha: float = 0.5, k: int = 5, correction: str | None = None,
                     duplicates: str = "raise", n_blocks: int = 100, knn_method: str = "auto",
                     memory_budget=None, device: str = "cpu") -> Estimate:
    """Renyi divergence ``D_alpha(p || q)`` by the Poczos-Schneider k-NN estimator.

    Parameters
    ----------
    p : array-like of shape (n, d)
        Samples of the first distribution.
    q : array-like of shape (m, d)
        Samples of the second distribution.
    alpha : float, default 0.5
        Order: ``alpha > 0``, ``alpha != 1`` (alpha -> 1 is the KL divergence) and
        ``k > |alpha - 1|``. ``alpha = 0.5`` gives ``D_1/2 = -2 log BC``.
    {common}

    Returns
    -------
    Estimate
        ``value`` in nats; ``details["alpha"]`` and ``details["log_bias_constant"]``
        (``log B_{{k,alpha}}``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p, q = rng.normal(size=(3000, 1)), rng.normal(1.0, 1.0, size=(3000, 1))
    >>> e = renyi_divergence(p, q)  # closed form: 0.25
    >>> abs(e.value - 0.25) < 3 * e.stderr
    True
    """
    p, q, k, duplicates, n_blocks, correction = _prepare(
        p, q, k, duplicates, n_blocks, correction, SYMMETRIC if alpha == 0.5 else "divergence")
    alpha = check_alpha(alpha, k)
    estimate = partial(_poczos_schneider, k=k, alpha=alpha, duplicates=duplicates,
                       n_blocks=n_blocks, options=SearchOptions(knn_method, memory_budget, device))
    return _dispatch(correction, p, q, estimate)


def renyi_log_terms(log_rho: np.ndarray, log_nu: np.ndarray, *, n: int, m: int, d: int,
                    alpha: float) -> np.ndarray:
    """``(1 - alpha) log((n-1) rho^d / (m nu^d))`` per point, never forming ``rho^d``."""
    return (1.0 - alpha) * (math.log(n - 1) - math.log(m) + d * (log_rho - log_nu))


def log_mean_exp(terms: np.ndarray) -> float:
    return float(logsumexp(terms) - math.log(len(terms)))


def _renyi_estimate(p, q, *, k, alpha, duplicates, n_blocks, options, value_of_lme, method,
                    extra_details) -> Estimate:
    """Poczos-Schneider sum in the log domain, mapped to a value by ``value_of_lme``."""
    r = _pair_radii(p, q, k, duplicates, options)
    log_b = log_renyi_bias(k, alpha)

    def statistic(log_rho, log_nu, n, m):
        terms = renyi_log_terms(log_rho, log_nu, n=n, m=m, d=r.d, alpha=alpha)
        return value_of_lme(log_mean_exp(terms) + log_b)

    value = statistic(r.rho.log_radii[r.keep], r.nu.log_radii[r.keep], r.n, r.m)
    stderr, stderr_method = r.jackknife(statistic, n_blocks)
    details = {**r.details, "alpha": alpha, "log_bias_constant": log_b,
               **extra_details(value)}
    return Estimate(value, stderr, n=int(r.keep.sum()), d=r.d, k=k, method=method,
                    stderr_method=stderr_method, details=details)


def _poczos_schneider(p, q, *, k, alpha, duplicates, n_blocks, options) -> Estimate:
    return _renyi_estimate(p, q, k=k, alpha=alpha, duplicates=duplicates, n_blocks=n_blocks,
                           options=options, value_of_lme=lambda v: v / (alpha - 1.0),
                           method=RENYI_METHOD, extra_details=lambda value: {})


def hellinger2(p, q, *, k: int = 5, correction: str | None = None, duplicates: str = "raise",
               n_blocks: int = 100, knn_method: str = "auto", memory_budget=None,
               device: str = "cpu") -> Estimate:
    """Squared Hellinger distance ``H^2 = 1 - BC(p, q)`` by the k-NN alpha = 1/2 estimator.

    ``BC = exp(-D_1/2 / 2)`` is the Poczos-Schneider sum at alpha = 1/2.

    Parameters
    ----------
    p : array-like of shape (n, d)
        Samples of the first distribution.
    q : array-like of shape (m, d)
        Samples of the second distribution.
    {common}

    Returns
    -------
    Estimate
        ``value`` dimensionless (in [0, 1] for the true distance; the estimate may
        leave it at finite n); ``details["bhattacharyya"]`` holds ``BC``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p, q = rng.normal(size=(3000, 1)), rng.normal(1.0, 1.0, size=(3000, 1))
    >>> e = hellinger2(p, q)  # closed form: 1 - exp(-1/8) = 0.1175
    >>> abs(e.value - 0.1175) < 3 * e.stderr
    True
    """
    p, q, k, duplicates, n_blocks, correction = _prepare(p, q, k, duplicates, n_blocks,
                                                         correction, SYMMETRIC)
    estimate = partial(_hellinger2, k=k, duplicates=duplicates, n_blocks=n_blocks,
                       options=SearchOptions(knn_method, memory_budget, device))
    return _dispatch(correction, p, q, estimate)


def _hellinger2(p, q, *, k, duplicates, n_blocks, options) -> Estimate:
    # BC = exp(log-mean-exp + log B) at alpha = 1/2, and H^2 = 1 - BC
    return _renyi_estimate(p, q, k=k, alpha=0.5, duplicates=duplicates, n_blocks=n_blocks,
                           options=options, value_of_lme=lambda v: -math.expm1(v),
                           method=f"{RENYI_METHOD} hellinger2",
                           extra_details=lambda value: {"bhattacharyya": 1.0 - value,
                                                        "units": "dimensionless"})


for _fn in (kl_divergence, renyi_divergence, hellinger2):
    _fn.__doc__ = _fn.__doc__.replace("{common}", _COMMON_PARAMS).replace("{{", "{").replace("}}", "}")
del _fn
