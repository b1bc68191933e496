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

Registered here:

``"whiten"``
    Entropy: map ``x`` to ``y = L^-1 (x - mean)`` with ``L L^T`` the sample
    covariance (Cholesky), estimate ``h(y)`` and return
    ``h(y) + log|det L|`` (``h(AX) = h(X) + log|det A|``). The k-NN estimator
    is then exactly affine-equivariant. Divergences: both samples mapped by the
    same ``L`` (pooled within-sample covariance); divergences are invariant
    under a common invertible map, so nothing is added.
    The standard error is the whitened estimate's; the uncertainty of the
    covariance itself is not propagated.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from hpx_uncert._estimate import Estimate

CorrectionFn = Callable[[tuple, Callable[..., Estimate]], Estimate]
KINDS = ("entropy", "divergence")

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
    bad = [kind for kind in kinds if kind not in KINDS]
    if bad:
        raise ValueError(f"unknown correction kind(s) {bad}; expected a subset of {KINDS}.")

    def decorate(fn: CorrectionFn) -> CorrectionFn:
        _REGISTRY[name] = (fn, tuple(kinds))
        return fn

    return decorate


def available_corrections(kind: str) -> tuple[str, ...]:
    """Names accepted by ``correction=`` for estimators of the given kind."""
    return tuple(sorted(name for name, (_, kinds) in _REGISTRY.items() if kind in kinds))


def check_correction(correction, kind: str):
    """``None`` or the name of a correction registered for ``kind``."""
    if correction is None:
        return None
    names = available_corrections(kind)
    if correction not in names:
        raise ValueError(f"The 'correction' parameter must be None or one of {names} for "
                         f"{kind} estimators; got {correction!r} instead.")
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
