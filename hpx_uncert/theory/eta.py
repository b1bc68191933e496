"""The factor eta(P; d) of Theorem 3 and its Hellinger variant.

Theorem 3 writes ``eta = 2a - sqrt((2a - 1)**2 - 1)`` with ``a = exp(2P/d)``.
With ``u = a - 1`` this is ``eta = 1 + gamma``,
``gamma = (sqrt(1 + u) - sqrt(u))**2 = 1 / (sqrt(1 + u) + sqrt(u))**2``; the last
form has no cancellation, so ``eta`` is accurate both at ``P = 0`` (exactly 2)
and as ``P -> inf`` (where the textbook form loses every digit of ``eta - 1``).
"""

from __future__ import annotations

import numpy as np

from ._validate import (as_float_or_array, check_dimension, check_nonnegative,
                        check_unit_interval)


def _gamma_from_u(u: np.ndarray) -> np.ndarray:
    # u = a - 1 >= 0, possibly inf; gamma = 1 / (sqrt(1+u) + sqrt(u))^2 -> 0 at inf
    with np.errstate(over="ignore"):
        root = np.sqrt(1.0 + u) + np.sqrt(u)
        return 1.0 / (root * root)


def gamma_from_perception(P, d):
    """Optimal noise scale ``gamma = eta(P; d) - 1`` in ``(0, 1]``.

    For a Gaussian posterior the estimator that attains ``U(P)`` samples
    ``N(E[X|Y], gamma * Sigma_{x|y})``; ``gamma`` solves
    ``(1 + gamma)**2 / (4 gamma) = exp(2P/d)`` on the branch ``gamma <= 1``.

    Parameters
    ----------
    P : float or array-like
        Perception index ``D_1/2(X, X_hat | Y)`` in nats, >= 0 (``inf`` gives 0).
    d : int
        Signal dimension.

    Returns
    -------
    float or ndarray
        ``gamma``; 1 at ``P = 0`` (posterior sampling), -> 0 as ``P -> inf`` (MMSE).
    """
    d = check_dimension(d)
    P = check_nonnegative(P, "P")
    with np.errstate(over="ignore"):
        u = np.expm1(2.0 * P / d)
    return as_float_or_array(_gamma_from_u(u))


def eta(P, d):
    """Theorem 3's factor ``eta(P; d)`` for the Renyi-1/2 perception index.

    ``eta(P; d) * N(X|Y) <= U(P) <= eta(P; d) * N(X_G|Y)`` where
    ``eta(P; d) = 2 e^(2P/d) - sqrt((2 e^(2P/d) - 1)**2 - 1)``.

    Parameters
    ----------
    P : float or array-like
        Perception index ``D_1/2`` in nats, >= 0; ``inf`` is allowed (eta = 1).
    d : int
        Signal dimension.

    Returns
    -------
    float or ndarray
        ``eta`` in ``[1, 2]`` (dimensionless): 2 exactly at ``P = 0``,
        decreasing and convex in ``P``, -> 1 as ``P -> inf``; at fixed ``P``
        it grows with ``d``.

    Examples
    --------
    >>> eta(0.0, 16)
    2.0
    >>> round(eta(2.0, 64), 3)
    1.605
    """
    return as_float_or_array(1.0 + np.asarray(gamma_from_perception(P, d)))


def eta_hellinger(h2, d):
    """``eta`` with the squared Hellinger distance as perception index.

    The conjectured variant of Theorem 3: ``exp(2P/d)`` is replaced by
    ``(1 - H^2)**(-4/d)``, which is the same function of the divergence since
    ``D_1/2 = -2 log(1 - H^2)``.

    Parameters
    ----------
    h2 : float or array-like
        Squared Hellinger distance ``H^2 = 1 - BC`` in ``[0, 1]``.
    d : int
        Signal dimension.

    Returns
    -------
    float or ndarray
        ``eta_H`` in ``[1, 2]``: 2 at ``H^2 = 0``, 1 at ``H^2 = 1`` (the limit).
    """
    d = check_dimension(d)
    h2 = check_unit_interval(h2, "h2")
    with np.errstate(divide="ignore", over="ignore"):
        u = np.expm1(-(4.0 / d) * np.log1p(-h2))
    return as_float_or_array(1.0 + _gamma_from_u(u))
