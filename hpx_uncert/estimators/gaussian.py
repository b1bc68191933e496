"""Gaussian plug-in estimates from sample moments (theory.md section 4).

The Gaussian with the sample mean and covariance (``ddof=1``) stands in for the
distribution: its entropy is the maximum-entropy upper bound on ``h``, its
entropy power ``|Sigma|^(1/d)`` the paper's practical uncertainty bound.
The closed forms are those of ``hpx_uncert.theory.normal``. A sample covariance is singular
when ``n <= d``: that is an error naming the fix, never a silent ridge.

Standard errors: paired delta-block jackknife over the moments (leave one block
of ``i mod B`` out of every sample, recompute the closed form).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from hpx_uncert._checks import check_same_dim, check_samples
from hpx_uncert._estimate import Estimate
from hpx_uncert.theory.normal import normal_entropy, normal_kl, normal_renyi

from ._params import check_alpha, check_n_blocks
from .stderr import _spread

METHOD = "gaussian plug-in"


class _Moments:
    """Sample mean, covariance (ddof=1) and its lower Cholesky factor."""

    def __init__(self, mean: np.ndarray, cov: np.ndarray, n: int, name: str):
        self.mean, self.cov, self.n = mean, cov, n
        try:
            self.chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            d = cov.shape[0]
            raise ValueError(
                f"the sample covariance of {name} is singular (n={n} samples, d={d}); a "
                f"Gaussian plug-in needs a full-rank covariance, so at least n = d + 1 "
                f"samples in general position. Use more samples or a lower dimension "
                f"(e.g. smaller patches).") from None
        self.logdet = 2.0 * float(np.sum(np.log(np.diag(self.chol))))


def _check_enough(x: np.ndarray, name: str) -> None:
    n, d = x.shape
    if n <= d:
        raise ValueError(f"{name} has n={n} samples in d={d} dimensions, so its sample "
                         f"covariance is singular; a Gaussian plug-in needs n > d. Use more "
                         f"samples or a lower dimension (e.g. smaller patches).")


def _moments_and_jackknife(samples: Sequence[np.ndarray], names: Sequence[str],
                           statistic: Callable[..., float], n_blocks: int
                           ) -> tuple[float, float, str]:
    """``statistic(*moments)`` on the full samples and its delta-block jackknife stderr."""
    centred = [x - x.mean(axis=0) for x in samples]
    full = [_Moments(x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False)), len(x), name)
            for x, name in zip(samples, names)]
    value = statistic(*full)
    blocks = min([n_blocks] + [len(x) for x in samples])
    if blocks < 2:
        return value, math.nan, "none (fewer than 2 samples)"
    sums, scatters, counts = [], [], []
    for c in centred:
        ids = np.arange(len(c)) % blocks
        sums.append(np.stack([c[ids == b].sum(axis=0) for b in range(blocks)]))
        scatters.append(np.stack([c[ids == b].T @ c[ids == b] for b in range(blocks)]))
        counts.append(np.bincount(ids, minlength=blocks))
    thetas = []
    for b in range(blocks):
        moments = []
        for x, name, s, q, cnt in zip(samples, names, sums, scatters, counts):
            n_out = len(x) - cnt[b]
            if n_out <= x.shape[1] + 1:
                return value, math.nan, "none (too few samples to leave blocks out)"
            shift = (s.sum(axis=0) - s[b]) / n_out
            cov = (q.sum(axis=0) - q[b] - n_out * np.outer(shift, shift)) / (n_out - 1)
            moments.append(_Moments(x.mean(axis=0) + shift, cov, n_out, name))
        thetas.append(statistic(*moments))
    return value, _spread(np.array(thetas)), f"delta-block jackknife ({blocks} blocks)"


def _entropy_of(m: _Moments) -> float:
    return normal_entropy(m.cov)


def _kl_of(p: _Moments, q: _Moments) -> float:
    return normal_kl(p.mean, p.cov, q.mean, q.cov)


def _renyi_of(p: _Moments, q: _Moments, alpha: float) -> float:
    return normal_renyi(p.mean, p.cov, q.mean, q.cov, alpha)


def _single(x, name: str):
    x = check_samples(x, name, min_n=2)
    _check_enough(x, name)
    return x


def _pair(p, q):
    p = check_samples(p, "p", min_n=2)
    q = check_samples(q, "q", min_n=2)
    check_same_dim(p, q)
    _check_enough(p, "p")
    _check_enough(q, "q")
    return p, q


def gaussian_entropy(x, *, n_blocks: int = 20) -> Estimate:
    """Entropy ``(1/2) log((2 pi e)^d |S|)`` of the Gaussian with the sample covariance ``S``.

    An upper bound on the entropy of any distribution with that covariance.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
        Samples; needs ``n_samples > n_features``.
    n_blocks : int, default 20
        Blocks of the jackknife standard error.

    Returns
    -------
    Estimate
        ``value`` in nats.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(5000, 3))
    >>> round(gaussian_entropy(x).value, 1)  # (3/2) log(2 pi e) = 4.26
    4.3
    """
    x = _single(x, "x")
    value, stderr, how = _moments_and_jackknife([x], ["x"], _entropy_of, check_n_blocks(n_blocks))
    return Estimate(value, stderr, n=len(x), d=x.shape[1], k=None, method=METHOD,
                    stderr_method=how, details={"units": "nats", "covariance": "sample, ddof=1"})


def gaussian_entropy_power(x, *, n_blocks: int = 20) -> Estimate:
    """Entropy power ``|S|^(1/d)`` of the Gaussian with the sample covariance ``S``.

    The geometric mean of the eigenvalues of ``S``: the paper's practical
    uncertainty, an upper bound on the entropy power ``N(X)``.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
        Samples; needs ``n_samples > n_features``.
    n_blocks : int, default 20
        Blocks of the jackknife standard error.

    Returns
    -------
    Estimate
        ``value`` in squared units of ``x``.
    """
    x = _single(x, "x")
    d = x.shape[1]
    value, stderr, how = _moments_and_jackknife(
        [x], ["x"], lambda m: math.exp(m.logdet / d), check_n_blocks(n_blocks))
    return Estimate(value, stderr, n=len(x), d=d, k=None, method=f"{METHOD} entropy power",
                    stderr_method=how,
                    details={"units": "squared units of x", "covariance": "sample, ddof=1"})


def gaussian_kl(p, q, *, n_blocks: int = 20) -> Estimate:
    """KL divergence between the Gaussians fitted (mean, covariance) to ``p`` and ``q``.

    ``(1/2)[tr(Sq^-1 Sp) + D^T Sq^-1 D - d + log(|Sq|/|Sp|)]`` with the sample moments.

    Parameters
    ----------
    p : array-like of shape (n, d)
    q : array-like of shape (m, d)
        Samples; each needs more samples than dimensions.
    n_blocks : int, default 20
        Blocks of the paired jackknife standard error.

    Returns
    -------
    Estimate
        ``value`` in nats.
    """
    p, q = _pair(p, q)
    value, stderr, how = _moments_and_jackknife([p, q], ["p", "q"], _kl_of,
                                                check_n_blocks(n_blocks))
    return Estimate(value, stderr, n=len(p), d=p.shape[1], k=None, method=f"{METHOD} kl",
                    stderr_method=how,
                    details={"units": "nats", "n_samples": (len(p), len(q)),
                             "covariance": "sample, ddof=1"})


def gaussian_renyi(p, q, *, alpha: float = 0.5, n_blocks: int = 20) -> Estimate:
    """Renyi divergence of order ``alpha`` between the Gaussians fitted to ``p`` and ``q``.

    ``D_a = (a/2) D^T S_a^-1 D - log(|S_a| / (|Sp|^(1-a) |Sq|^a)) / (2(a-1))`` with
    ``S_a = (1-a) Sp + a Sq`` and the sample moments; ``inf`` for ``alpha > 1`` when
    ``S_a`` is not positive definite.

    Parameters
    ----------
    p : array-like of shape (n, d)
    q : array-like of shape (m, d)
        Samples; each needs more samples than dimensions.
    alpha : float, default 0.5
        Order in (0, 1) or (1, inf).
    n_blocks : int, default 20
        Blocks of the paired jackknife standard error.

    Returns
    -------
    Estimate
        ``value`` in nats.
    """
    p, q = _pair(p, q)
    alpha = check_alpha(alpha, math.inf, kl_hint="gaussian_kl(p, q)")
    value, stderr, how = _moments_and_jackknife(
        [p, q], ["p", "q"], lambda mp, mq: _renyi_of(mp, mq, alpha), check_n_blocks(n_blocks))
    return Estimate(value, stderr, n=len(p), d=p.shape[1], k=None, method=f"{METHOD} renyi",
                    stderr_method=how,
                    details={"units": "nats", "alpha": alpha, "n_samples": (len(p), len(q)),
                             "covariance": "sample, ddof=1"})
