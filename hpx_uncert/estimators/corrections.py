"""Corrections applied around the k-NN estimators: the ``correction=`` hook.

Every k-NN estimator takes ``correction=None`` (the textbook formula, digit for
digit) or the name of a registered correction. A correction is a function

``fn(samples, estimate) -> Estimate``

where ``samples`` is ``(x,)`` for entropies or ``(p, q)`` for divergences (float64
arrays, validated) and ``estimate(*samples)`` runs the uncorrected estimator
with the caller's settings. A correction may transform the samples, call
``estimate`` any number of times and combine the results. Register one with

>>> @register_correction("my-correction", kinds=("entropy",))   # doctest: +SKIP
... def my_correction(samples, estimate): ...

and it becomes available to ``entropy``, ``entropy_power`` and the conditional
forms at once.

Registered here (measured residual bias: ``docs/bias.md``):

``"whiten"``
    Entropy: map ``x`` to ``y = L^-1 (x - mean)`` with ``L L^T`` the sample
    covariance (Cholesky), estimate ``h(y)`` and return
    ``h(y) + log|det L|`` (``h(AX) = h(X) + log|det A|``). The k-NN estimator
    is then exactly affine-equivariant. Divergences: both samples mapped by the
    same ``L`` (pooled within-sample covariance); divergences are invariant
    under a common invertible map, so nothing is added.
    The standard error is the whitened estimate's; the uncertainty of the
    covariance itself is not propagated.
``"gaussian"``
    Gaussian surrogate: the same estimator on seeded Gaussian samples of the
    same size with the data's mean and covariance (a pair of them for a
    divergence) measures the bias against the closed form; it is subtracted
    (``hpx_uncert.estimators.surrogate``). ``details`` hold the bias, its Monte
    Carlo error (folded into ``stderr``) and the surrogate estimates.
``"gaussian-bound"``
    Entropy only: ``h(X) = h(X_G) - D(X || X_G)``, written on the whitened
    sample ``y`` as ``(d/2) log 2 pi + E|y|^2 / 2 - D(y || N(0, I))`` plus
    ``log|det L|``, with the KL by the Wang-Kulkarni-Verdu estimator against a
    seeded ``N(0, I)`` sample of the same size.
``"gaussianize"``
    An invertible chain fitted on the data (``hpx_uncert.estimators.gaussianize``):
    whitening, a radial map when the radius is far from that of a Gaussian
    (elliptical heavy tails), an ICA rotation and per-coordinate maps to normal
    quantiles, then whitening again. Entropy: the chain is fitted on one half of
    the sample, ``h(X) = h(T(X)) - E log|det J_T(X)|`` with the log-Jacobian known
    exactly and averaged over the other half, and ``h(T(X))`` corrected by the
    ``N(0, I)`` surrogate of its size (computed once per size and settings).
    Divergences: one chain fitted on both samples together maps both (no
    Jacobian enters), then the ``"gaussian"`` correction.
``"gaussian-symmetric"``
    Symmetric divergences only (``hellinger2``, ``renyi_divergence`` with
    ``alpha=0.5``): the mean of the ``"gaussian"``-corrected estimates in both
    directions, ``(D(p, q) + D(q, p)) / 2``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from hpx_uncert._estimate import Estimate

CorrectionFn = Callable[[tuple, Callable[..., Estimate]], Estimate]
KINDS = ("entropy", "divergence")
#: divergences symmetric in (p, q): Renyi at alpha = 1/2 and the squared Hellinger distance;
#: they accept the corrections of "divergence" and those registered for this kind
SYMMETRIC = "symmetric-divergence"

_REGISTRY: dict[str, tuple[CorrectionFn, tuple[str, ...]]] = {}


def register_correction(name: str, *, kinds: Sequence[str]):
    """Decorator registering ``fn(samples, estimate) -> Estimate`` under ``name``.

    Parameters
    ----------
    name : str
        The value users pass as ``correction=``.
    kinds : sequence of {"entropy", "divergence"}
        Which estimator families the correction applies to.
    """
    bad = [kind for kind in kinds if kind not in (*KINDS, SYMMETRIC)]
    if bad:
        raise ValueError(f"unknown correction kind(s) {bad}; expected a subset of "
                         f"{(*KINDS, SYMMETRIC)}.")

    def decorate(fn: CorrectionFn) -> CorrectionFn:
        _REGISTRY[name] = (fn, tuple(kinds))
        return fn

    return decorate


def available_corrections(kind: str) -> tuple[str, ...]:
    """Names accepted by ``correction=`` for estimators of the given kind."""
    accepted = {kind, "divergence"} if kind == SYMMETRIC else {kind}
    return tuple(sorted(name for name, (_, kinds) in _REGISTRY.items()
                        if accepted.intersection(kinds)))


def check_correction(correction, kind: str):
    """``None`` or the name of a correction registered for ``kind``."""
    if correction is None:
        return None
    names = available_corrections(kind)
    if correction not in names:
        hint = ""
        if kind == "divergence" and correction in available_corrections(SYMMETRIC):
            hint = (" It averages the two directions, so it applies only to the symmetric "
                    "hellinger2 and renyi_divergence with alpha=0.5.")
        raise ValueError(f"The 'correction' parameter must be None or one of {names} for "
                         f"{kind} estimators; got {correction!r} instead.{hint}")
    return correction


def apply_correction(correction: str, samples: tuple, estimate: Callable[..., Estimate]
                     ) -> Estimate:
    """Run the registered correction ``correction`` on ``samples``."""
    fn, _ = _REGISTRY[correction]
    result = fn(samples, estimate)
    return result.replace(details={"correction": correction})


def _whitening_factor(cov: np.ndarray, *, what: str, n: int) -> np.ndarray:
    """Lower Cholesky factor ``L`` of ``cov``, or a clear error when it is singular."""
    d = cov.shape[0]
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"correction='whiten' needs a non-singular sample covariance, but the covariance "
            f"of {what} (n={n} samples, d={d}) is singular. Use more samples than dimensions "
            f"(n > d), reduce d, or pass correction=None.") from None


def _whiten(x: np.ndarray, centre: np.ndarray, chol: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    return np.ascontiguousarray(solve_triangular(chol, (x - centre).T, lower=True).T)


@register_correction("whiten", kinds=KINDS)
def whiten(samples: tuple, estimate: Callable[..., Estimate]) -> Estimate:
    if len(samples) == 1:
        (x,) = samples
        chol = _whitening_factor(np.atleast_2d(np.cov(x, rowvar=False)), what="x", n=len(x))
        log_det = float(np.sum(np.log(np.diag(chol))))
        inner = estimate(_whiten(x, x.mean(axis=0), chol))
        return inner.replace(value=inner.value + log_det,
                             details={"whitened_value": inner.value, "log_det_cholesky": log_det})
    p, q = samples
    n, m = len(p), len(q)
    pooled = ((n - 1) * np.atleast_2d(np.cov(p, rowvar=False))
              + (m - 1) * np.atleast_2d(np.cov(q, rowvar=False))) / max(n + m - 2, 1)
    chol = _whitening_factor(pooled, what="p and q (pooled)", n=n + m)
    centre = p.mean(axis=0)
    inner = estimate(_whiten(p, centre, chol), _whiten(q, centre, chol))
    return inner.replace(details={"log_det_cholesky": float(np.sum(np.log(np.diag(chol))))})


# --- Gaussian surrogate, Gaussian-bound decomposition, Gaussianization -----------------

def _kl_estimator_like(estimate: Callable[..., Estimate]) -> Callable[..., Estimate]:
    """The Wang-Kulkarni-Verdu estimator with the settings of the entropy estimator ``estimate``."""
    from functools import partial

    from .divergence import _wkv

    return partial(_wkv, **estimate.keywords)


@register_correction("gaussian", kinds=KINDS)
def gaussian(samples: tuple, estimate: Callable[..., Estimate]) -> Estimate:
    from .surrogate import Moments, surrogate_bias

    raw = estimate(*samples)
    found = surrogate_bias(estimate, tuple(Moments.of(s) for s in samples))
    return raw.replace(value=raw.value - found.bias,
                       stderr=float(np.hypot(raw.stderr, found.mc_error)),
                       details={"uncorrected_value": raw.value, **found.details()})


def _whitened(x: np.ndarray) -> tuple[np.ndarray, float]:
    chol = _whitening_factor(np.atleast_2d(np.cov(x, rowvar=False)), what="x", n=len(x))
    return _whiten(x, x.mean(axis=0), chol), float(np.sum(np.log(np.diag(chol))))


def _bound_entropy(y: np.ndarray, estimate: Callable[..., Estimate]) -> tuple[float, float, dict]:
    """``h(y) = (d/2) log 2 pi + E|y|^2 / 2 - D(y || N(0, I))`` with the KL by k-NN."""
    from .surrogate import SURROGATE_SEED

    n, d = y.shape
    ref = np.random.default_rng([SURROGATE_SEED, 1000]).standard_normal((n, d))
    kl = _kl_estimator_like(estimate)(y, ref)
    sq = np.einsum("ij,ij->i", y, y)
    value = 0.5 * d * np.log(2.0 * np.pi) + 0.5 * float(sq.mean()) - kl.value
    stderr = float(np.hypot(kl.stderr, 0.5 * sq.std(ddof=1) / np.sqrt(n)))
    return value, stderr, {"kl_to_gaussian": kl.value, "kl_to_gaussian_stderr": kl.stderr}


@register_correction("gaussian-bound", kinds=("entropy",))
def gaussian_bound(samples: tuple, estimate: Callable[..., Estimate]) -> Estimate:
    (x,) = samples
    y, log_det = _whitened(x)
    value, stderr, details = _bound_entropy(y, estimate)
    return Estimate(value + log_det, stderr, n=len(x), d=x.shape[1],
                    k=estimate.keywords["k"], method="gaussian-bound decomposition",
                    stderr_method="k-NN KL jackknife and E|y|^2 spread",
                    details={"log_det_cholesky": log_det, **details})


def _gaussianized_entropy(x: np.ndarray, estimate: Callable[..., Estimate]) -> Estimate:
    from .gaussianize import fit_gaussianizer
    from .surrogate import SURROGATE_SEED, standard_entropy_bias

    n, d = x.shape
    order = np.random.default_rng([SURROGATE_SEED, 2000]).permutation(n)
    fit, held = order[: n // 2], order[n // 2:]
    chain = fit_gaussianizer(x[fit], seed=SURROGATE_SEED)
    z, log_jac = chain.transform(x)
    # the chain was fitted on one half: its log-Jacobian is averaged over the other half
    jac = float(log_jac[held].mean())
    jac_err = float(log_jac[held].std(ddof=1) / np.sqrt(len(held)))
    z, log_det = _whitened(z)
    inner = estimate(z)
    found = standard_entropy_bias(estimate, n, d)
    value = inner.value - found.bias + log_det - jac
    stderr = float(np.sqrt(inner.stderr ** 2 + found.mc_error ** 2 + jac_err ** 2))
    return inner.replace(value=value, stderr=stderr,
                         stderr_method=f"{inner.stderr_method}, surrogate and log-Jacobian "
                                       f"Monte Carlo errors added",
                         details={"gaussianized_value": inner.value, "log_jacobian": jac,
                                  "log_jacobian_mc_error": jac_err,
                                  "log_det_cholesky": log_det,
                                  "gaussianize_steps": chain.kinds, **found.details()})


def _gaussianized_divergence(p: np.ndarray, q: np.ndarray,
                             estimate: Callable[..., Estimate]) -> Estimate:
    from .gaussianize import fit_gaussianizer
    from .surrogate import SURROGATE_SEED

    # one map for both samples, so the divergence is unchanged and no Jacobian enters
    chain = fit_gaussianizer(np.concatenate((p, q)), seed=SURROGATE_SEED)
    zp, _ = chain.transform(p)
    zq, _ = chain.transform(q)
    corrected = gaussian((zp, zq), estimate)
    return corrected.replace(details={"gaussianize_steps": chain.kinds})


@register_correction("gaussianize", kinds=KINDS)
def gaussianize(samples: tuple, estimate: Callable[..., Estimate]) -> Estimate:
    if len(samples) == 1:
        return _gaussianized_entropy(samples[0], estimate)
    return _gaussianized_divergence(*samples, estimate)


@register_correction("gaussian-symmetric", kinds=(SYMMETRIC,))
def gaussian_symmetric(samples: tuple, estimate: Callable[..., Estimate]) -> Estimate:
    p, q = samples
    forward, backward = gaussian((p, q), estimate), gaussian((q, p), estimate)
    # the two directions share both samples: their errors are taken as fully correlated
    return forward.replace(value=0.5 * (forward.value + backward.value),
                           stderr=0.5 * (forward.stderr + backward.stderr),
                           details={"forward_value": forward.value,
                                    "backward_value": backward.value,
                                    "surrogate_bias": 0.5 * (forward.details["surrogate_bias"]
                                                             + backward.details["surrogate_bias"])})
