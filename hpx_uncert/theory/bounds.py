"""Theorem 1 and 3 bounds, the UP-plane regions, and Theorem 4's check."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import (as_float_or_array, check_dimension, check_nonnegative,
                        check_stderr, check_unit_interval)
from .eta import eta, eta_hellinger

DIVERGENCES = ("renyi1/2", "hellinger2")

# Ties closer than this (relative) count as equal: a point computed on the
# boundary by another formula must not flip region on the last bit.
_TIE_RTOL = 1e-12


def _check_divergence(divergence: str) -> str:
    if divergence not in DIVERGENCES:
        raise ValueError(f"divergence must be one of {DIVERGENCES}; got {divergence!r}. "
                         f"Use 'renyi1/2' for D_1/2 in nats, 'hellinger2' for H^2 in [0, 1].")
    return divergence


def _eta_of(P, d: int, divergence: str):
    if divergence == "hellinger2":
        return eta_hellinger(P, d)
    return eta(P, d)


def theorem1_bounds(n_inherent, n_gaussian):
    """Theorem 1: ``N(X|Y) <= U(P) <= 2 N(X_G|Y)`` for every ``P`` and divergence.

    Parameters
    ----------
    n_inherent : float or array-like
        Inherent uncertainty ``N(X|Y)``, the entropy power of the true
        posterior (squared signal units), >= 0.
    n_gaussian : float or array-like
        ``N(X_G|Y)``, its Gaussian counterpart ``|Sigma_{x|y}|^(1/d)``
        averaged in the log domain, >= ``n_inherent`` in truth.

    Returns
    -------
    lower, upper : float or ndarray
        ``(N(X|Y), 2 N(X_G|Y))``, in squared signal units.
    """
    lower = check_nonnegative(n_inherent, "n_inherent", allow_inf=False)
    upper = 2.0 * check_nonnegative(n_gaussian, "n_gaussian", allow_inf=False)
    return as_float_or_array(lower.copy()), as_float_or_array(upper)


def up_bounds(P, d, n_inherent, n_gaussian, *, divergence="renyi1/2"):
    """Theorem 3: ``eta(P; d) N(X|Y) <= U(P) <= eta(P; d) N(X_G|Y)``.

    Parameters
    ----------
    P : float or array-like
        Perception index: ``D_1/2`` in nats (``divergence="renyi1/2"``, >= 0,
        ``inf`` allowed) or ``H^2`` in [0, 1] (``divergence="hellinger2"``, the
        paper's conjectured variant).
    d : int
        Signal dimension.
    n_inherent, n_gaussian : float
        ``N(X|Y)`` and ``N(X_G|Y)`` (squared signal units).
    divergence : {"renyi1/2", "hellinger2"}, keyword-only
        Which perception index ``P`` is.

    Returns
    -------
    lower, upper : float or ndarray
        The bounds on the uncertainty ``U(P)`` (squared signal units); the
        region below ``lower`` is impossible, between them optimal, above
        ``upper`` suboptimal.
    """
    d = check_dimension(d)
    _check_divergence(divergence)
    n_inherent = check_nonnegative(n_inherent, "n_inherent", allow_inf=False)
    n_gaussian = check_nonnegative(n_gaussian, "n_gaussian", allow_inf=False)
    factor = np.asarray(_eta_of(P, d, divergence))
    return as_float_or_array(factor * n_inherent), as_float_or_array(factor * n_gaussian)


@dataclass(frozen=True)
class RegionCall:
    """Where a model's (perception, uncertainty) point lies in the UP plane.

    Attributes
    ----------
    region : str
        ``"impossible"``, ``"optimal"``, ``"suboptimal"`` or ``"undetermined"``.
    z_lower : float
        ``(U - eta N(X|Y)) / se``: standard errors above the impossible
        boundary (negative: below it). ``+-inf`` when every error is 0.
    z_upper : float
        ``(U - eta N(X_G|Y)) / se``: standard errors above the upper bound.
    lower, upper : float
        The two boundaries at the model's ``P`` (squared signal units).
    """

    region: str
    z_lower: float
    z_upper: float
    lower: float
    upper: float

    def __str__(self) -> str:
        return self.region


def _margin(diff: float, se: float, scale: float, *, tie: float) -> float:
    if se > 0:
        return diff / se
    if abs(diff) <= _TIE_RTOL * scale:
        return tie
    return math.copysign(math.inf, diff)


def _eta_secant_slope(P: float, se_P: float, z: float, d: int, divergence: str) -> float:
    """|d eta / dP| as the secant over ``P +- z se_P`` (clipped to the domain).

    The tangent is useless near ``P = 0`` where ``eta`` has infinite slope
    (``eta ~ 2 - 2 sqrt(2P/d)``); the secant over the confidence interval
    stays finite and is what that interval actually maps to.
    """
    if se_P == 0 or not math.isfinite(P):
        return 0.0
    lo = max(P - z * se_P, 0.0)
    hi = P + z * se_P
    if divergence == "hellinger2":
        hi = min(hi, 1.0)
    if hi <= lo:
        return 0.0
    return float((_eta_of(lo, d, divergence) - _eta_of(hi, d, divergence)) / (hi - lo))


def classify_region(uncertainty, perception, d, n_inherent, n_gaussian, *,
                    uncertainty_stderr=0.0, perception_stderr=0.0,
                    n_inherent_stderr=0.0, n_gaussian_stderr=0.0,
                    z=2.0, divergence="renyi1/2") -> RegionCall:
    """Classify a model's point in the uncertainty-perception plane.

    The boundaries at the model's perception ``P`` are ``L = eta(P) N(X|Y)``
    and ``B = eta(P) N(X_G|Y)``. Each margin is a difference divided by its
    combined standard error, errors taken independent:

    ``se_L**2 = se_U**2 + (eta se_N)**2 + (N |eta'| se_P)**2``

    (likewise for ``B`` with ``N(X_G|Y)``), where ``|eta'|`` is the secant slope
    of ``eta`` over ``P +- z se_P`` clipped to the domain, so the perception error
    moves the boundary as far as its confidence interval does (the tangent is
    infinite at ``P = 0``). Then, in this order:

    - ``impossible`` when ``z_lower < -z`` (significantly below ``L``; in truth
      nothing lies there, so this flags estimator bias or a wrong ``N(X|Y)``);
    - ``suboptimal`` when ``z_upper > z`` (significantly above ``B``);
    - ``optimal`` otherwise: the point is statistically consistent with the
      optimal band. A region is only claimed against the band when the data
      show a significant departure; the band can be narrower than the error
      bars (Gaussian posteriors have ``N(X|Y) = N(X_G|Y)``, a band of zero
      width, on which the optimal family lies exactly), so "inside the band
      by z standard errors" would make the optimum unreachable. The margins
      are returned for callers who want a stricter rule;
    - ``undetermined`` when a margin cannot be computed (a NaN input or
      standard error).

    With every standard error 0 the boundaries themselves belong to the
    optimal region (the bounds are attainable). Estimates with
    ``n_gaussian < n_inherent`` (impossible in truth, possible with biased
    k-NN entropies) leave no optimal band; such a point is never called
    ``optimal``, and a point below ``L`` is called ``impossible`` first.

    Parameters
    ----------
    uncertainty : float
        The model's uncertainty ``N(X_hat - X | Y)`` (squared signal units).
    perception : float
        Its perception index: ``D_1/2`` in nats (``inf`` for a deterministic
        model against a continuous posterior) or ``H^2`` in [0, 1].
    d : int
        Signal dimension.
    n_inherent, n_gaussian : float
        ``N(X|Y)`` and ``N(X_G|Y)``.
    uncertainty_stderr, perception_stderr, n_inherent_stderr, n_gaussian_stderr : float, keyword-only
        Standard errors of the four inputs (0: exact).
    z : float, keyword-only
        Number of standard errors a difference must exceed to count (2 ~ 95 %
        two-sided per boundary).
    divergence : {"renyi1/2", "hellinger2"}, keyword-only
        Which perception index ``perception`` is.

    Returns
    -------
    RegionCall
        ``.region`` plus the two margins and the two boundaries.
    """
    d = check_dimension(d)
    _check_divergence(divergence)
    z = float(z)
    if not (math.isfinite(z) and z > 0):
        raise ValueError(f"z must be a finite number of standard errors > 0; got {z!r}.")
    U = float(check_nonnegative(uncertainty, "uncertainty", allow_inf=False))
    if divergence == "hellinger2":
        P = float(check_unit_interval(perception, "perception"))
    else:
        P = float(check_nonnegative(perception, "perception"))
    N = float(check_nonnegative(n_inherent, "n_inherent", allow_inf=False))
    NG = float(check_nonnegative(n_gaussian, "n_gaussian", allow_inf=False))
    se_U = check_stderr(uncertainty_stderr, "uncertainty_stderr")
    se_P = check_stderr(perception_stderr, "perception_stderr")
    se_N = check_stderr(n_inherent_stderr, "n_inherent_stderr")
    se_NG = check_stderr(n_gaussian_stderr, "n_gaussian_stderr")

    factor = float(_eta_of(P, d, divergence))
    slope = _eta_secant_slope(P, se_P, z, d, divergence)
    lower, upper = factor * N, factor * NG
    se_lower = math.sqrt(se_U**2 + (factor * se_N) ** 2 + (N * slope * se_P) ** 2)
    se_upper = math.sqrt(se_U**2 + (factor * se_NG) ** 2 + (NG * slope * se_P) ** 2)
    z_lower = _margin(U - lower, se_lower, max(U, lower), tie=math.inf)
    z_upper = _margin(U - upper, se_upper, max(U, upper), tie=-math.inf)

    if z_lower < -z:
        region = "impossible"
    elif z_upper > z:
        region = "suboptimal"
    elif math.isnan(z_lower) or math.isnan(z_upper):
        region = "undetermined"
    else:
        region = "optimal"
    return RegionCall(region, z_lower, z_upper, lower, upper)


@dataclass(frozen=True)
class BoundCheck:
    """Outcome of an inequality check with error bars; truthy when it holds.

    Attributes
    ----------
    holds : bool
        False only when the inequality is violated by more than ``z``
        standard errors.
    z_margin : float
        (larger side - smaller side) / combined standard error; ``+-inf`` when
        the errors are 0.
    """

    holds: bool
    z_margin: float

    def __bool__(self) -> bool:
        return self.holds


def theorem4_holds(mse, uncertainty, *, mse_stderr=0.0, uncertainty_stderr=0.0,
                   z=2.0) -> BoundCheck:
    """Theorem 4: per-dimension MSE >= ``N(X_hat - X | Y)`` (unbiased estimators).

    Parameters
    ----------
    mse : float
        ``(1/d) E ||X_hat - X||^2`` (squared signal units).
    uncertainty : float
        ``N(X_hat - X | Y)`` of the same estimator (squared signal units).
    mse_stderr, uncertainty_stderr : float, keyword-only
        Standard errors (0: exact).
    z : float, keyword-only
        Violations smaller than ``z`` combined standard errors are not counted.

    Returns
    -------
    BoundCheck
        ``holds`` and the margin ``(mse - uncertainty) / se``. A violation
        means a biased estimator or a biased entropy estimate.
    """
    z = float(z)
    if not (math.isfinite(z) and z > 0):
        raise ValueError(f"z must be a finite number of standard errors > 0; got {z!r}.")
    mse = float(check_nonnegative(mse, "mse", allow_inf=False))
    U = float(check_nonnegative(uncertainty, "uncertainty", allow_inf=False))
    se = math.hypot(check_stderr(mse_stderr, "mse_stderr"),
                    check_stderr(uncertainty_stderr, "uncertainty_stderr"))
    margin = _margin(mse - U, se, max(mse, U), tie=math.inf)
    return BoundCheck(bool(margin >= -z), margin)
