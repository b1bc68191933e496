"""Kozachenko-Leonenko k-NN entropy and entropy power (Euclidean norm, nats).

``h = psi(N) - psi(k) + log V_d + (d/N) sum_i log eps_k(i)`` with ``eps_k(i)`` the
distance from sample i to its k-th nearest neighbour among the other N - 1
samples and ``V_d`` the volume of the Euclidean unit ball [1]_.

References
----------
.. [1] L. F. Kozachenko and N. N. Leonenko, "Sample estimate of the entropy of a
   random vector", Problems Inform. Transmission 23(2), 95-101, 1987.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from hpx_uncert._checks import check_k, check_samples
from hpx_uncert._estimate import Estimate

from ._constants import kl_entropy_offset
from ._params import check_duplicates, check_n_blocks
from ._search import SearchOptions, self_candidates
from .corrections import apply_correction, check_correction
from .duplicates import apply_duplicates_policy, zero_radius_mask
from .stderr import JACKKNIFE_EXTRA, block_ids, block_jackknife

METHOD = "kozachenko-leonenko"
LOG_2PIE = math.log(2.0 * math.pi * math.e)


def entropy(x, *, k: int = 5, correction: str | None = None, duplicates: str = "raise",
            n_blocks: int = 100, knn_method: str = "auto", memory_budget=None,
            device: str = "cpu") -> Estimate:
    """Differential entropy of the distribution of ``x`` by the Kozachenko-Leonenko estimator.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
        Independent samples; a 1-D array is read as scalar samples.
    k : int, default 5
        Neighbour order, ``1 <= k < n_samples``.
    correction : {None, "whiten"} or a registered name, default None
        None computes the textbook formula exactly. ``"whiten"`` estimates on
        whitened samples and adds ``log|det L|`` (``L L^T`` the sample covariance);
        see ``hpx_uncert.estimators.corrections``.
    duplicates : {"raise", "drop"}, default "raise"
        What a zero k-NN radius does; see ``hpx_uncert.estimators.duplicates``.
    n_blocks : int, default 100
        Blocks of the jackknife standard error (see ``hpx_uncert.estimators.stderr``).
    knn_method, memory_budget, device
        Forwarded to ``hpx_uncert.neighbors.knn_distances`` as ``method``,
        ``memory_budget`` and ``device``.

    Returns
    -------
    Estimate
        ``value`` in nats; ``stderr`` from the block jackknife (neighbours
        recomputed); ``details`` hold the neighbour-search method,
        the correction and the number of zero radii.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(2000, 2))
    >>> round(entropy(x).value, 1)  # log(2 pi e) = 2.84 for a standard 2-D normal
    2.8
    """
    x = check_samples(x, "x", min_n=2)
    k = check_k(k, len(x), "x")
    duplicates = check_duplicates(duplicates)
    n_blocks = check_n_blocks(n_blocks)
    correction = check_correction(correction, "entropy")
    estimate = partial(_kl_entropy, k=k, duplicates=duplicates, n_blocks=n_blocks,
                       options=SearchOptions(knn_method, memory_budget, device))
    if correction is None:
        return estimate(x)
    return apply_correction(correction, (x,), estimate)


def _kl_entropy(x: np.ndarray, *, k: int, duplicates: str, n_blocks: int,
                options: SearchOptions) -> Estimate:
    n, d = x.shape
    cand = self_candidates(x, k, options, extra=JACKKNIFE_EXTRA)
    log_r = cand.log_radii
    zero = zero_radius_mask(log_r)
    keep = apply_duplicates_policy(zero, duplicates, name="x")
    value = kl_entropy_offset(n, k, d) + d * float(np.mean(log_r[keep]))
    blocks = block_ids(n, n_blocks)

    def leave_out(b: int) -> float:
        out = blocks == b
        lr = cand.log_radii_without(out)[~out]
        # removing points only lengthens radii, so no new zeros appear
        lr = lr[~np.isneginf(lr)]
        return kl_entropy_offset(n - int(out.sum()), k, d) + d * float(np.mean(lr))

    stderr, stderr_method = block_jackknife(leave_out, int(blocks.max()) + 1)
    return Estimate(value, stderr, n=int(keep.sum()), d=d, k=k, method=METHOD,
                    stderr_method=stderr_method,
                    details={"knn_method": cand.method, "correction": None, "units": "nats",
                             "n_samples": n, "duplicates": duplicates,
                             "zero_radii": int(zero.sum())})


def entropy_to_power(h: float, h_stderr: float, d: int) -> tuple[float, float]:
    """``N = exp(2h/d) / (2 pi e)`` and its delta-method standard error ``N (2/d) se_h``."""
    power = math.exp(2.0 * h / d - LOG_2PIE)
    return power, power * 2.0 / d * h_stderr


def entropy_power(x, *, k: int = 5, correction: str | None = None, duplicates: str = "raise",
                  n_blocks: int = 100, knn_method: str = "auto", memory_budget=None,
                  device: str = "cpu") -> Estimate:
    """Entropy power ``N(X) = exp(2 h / d) / (2 pi e)`` from the Kozachenko-Leonenko entropy.

    Parameters are those of :func:`entropy`. For a Gaussian ``N = |Sigma|^(1/d)``.

    Returns
    -------
    Estimate
        ``value`` in squared units of ``x``; ``stderr`` by the delta method from the
        entropy's; ``details["entropy"]`` and ``details["entropy_stderr"]`` hold h.
    """
    h = entropy(x, k=k, correction=correction, duplicates=duplicates, n_blocks=n_blocks,
                knn_method=knn_method, memory_budget=memory_budget, device=device)
    return as_entropy_power(h)


def as_entropy_power(h: Estimate) -> Estimate:
    """An entropy estimate (nats) turned into entropy power, stderr by the delta method."""
    power, stderr = entropy_to_power(h.value, h.stderr, h.d)
    return h.replace(value=power, stderr=stderr, method=f"{h.method} entropy power",
                     stderr_method=f"delta method on {h.stderr_method}",
                     details={"entropy": h.value, "entropy_stderr": h.stderr,
                              "units": "squared units of x"})
