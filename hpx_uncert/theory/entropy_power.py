"""Entropy power and its inverse."""

from __future__ import annotations

import numpy as np

from ._validate import as_float_or_array, check_dimension, check_nonnegative

_LOG_2PIE = float(np.log(2.0 * np.pi * np.e))


def entropy_to_power(h, d):
    """Entropy power ``N = exp(2 h / d) / (2 pi e)`` of a differential entropy.

    Parameters
    ----------
    h : float or array-like
        Differential entropy in nats (of the whole ``d``-dimensional vector,
        not per dimension). ``-inf`` gives 0.
    d : int
        Dimension of the vector.

    Returns
    -------
    float or ndarray
        Entropy power, in squared signal units (a variance per dimension).
        For a Gaussian ``N(mu, Sigma)`` it equals ``det(Sigma) ** (1/d)``.

    Examples
    --------
    >>> import numpy as np
    >>> round(entropy_to_power(0.5 * np.log(2 * np.pi * np.e * 3.0), 1), 12)
    3.0
    """
    d = check_dimension(d)
    h = np.asarray(h, dtype=np.float64)
    # exp of (2h/d - log(2 pi e)) keeps N finite where exp(2h/d) alone overflows
    return as_float_or_array(np.exp(2.0 * h / d - _LOG_2PIE))


def power_to_entropy(n, d):
    """Differential entropy (nats) of a ``d``-vector with entropy power ``n``.

    Inverse of :func:`entropy_to_power`: ``h = (d/2) log(2 pi e N)``.

    Parameters
    ----------
    n : float or array-like
        Entropy power, >= 0 (0 gives ``-inf``).
    d : int
        Dimension of the vector.

    Returns
    -------
    float or ndarray
        Differential entropy in nats.
    """
    d = check_dimension(d)
    n = check_nonnegative(n, "n")
    with np.errstate(divide="ignore"):
        return as_float_or_array(0.5 * d * (np.log(n) + _LOG_2PIE))
