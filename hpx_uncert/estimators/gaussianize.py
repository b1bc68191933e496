"""Invertible Gaussianizing maps with an exactly known log-Jacobian.

The k-NN entropy estimator is least biased on near-Gaussian, whitened samples.
These maps bring a sample closer to that while keeping the bookkeeping exact:
for an invertible, piecewise-smooth map ``T``,

``h(X) = h(T(X)) - E log|det J_T(X)|``,

and divergences are unchanged when the same ``T`` is applied to both samples.

Two families of maps are provided, both piecewise linear in one variable so
that their derivative, and hence the log-Jacobian, is known in closed form:

- *marginal*: each coordinate ``y_j -> t_j(y_j)``, ``t_j`` monotone and
  piecewise linear through knots placed at the sample quantiles of a uniform grid
  of standard-normal quantiles (so ``t_j(Y_j)`` is close to ``N(0, 1)``);
  ``log|det J| = sum_j log t_j'(y_j)``.
- *radial*: ``y -> (s(r) / r) y`` with ``r = |y|`` and ``s`` monotone piecewise
  linear in ``log r``, placed so that ``s(R)`` follows the chi distribution with
  d degrees of freedom (the radius of ``N(0, I_d)``); for whitened elliptical
  samples (multivariate Student-t, Gaussian scale mixtures) this undoes the
  heavy radial tail. ``log|det J| = log s'(r) + (d - 1) log(s(r) / r)``.

Each map is fitted on one part of the sample and its log-Jacobian averaged
over the other part, so that the average is an unbiased Monte Carlo estimate
of ``E log|det J_T(X)|`` for the fitted, then fixed, ``T``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

#: spacing of the knots in standard-normal quantile units
KNOT_SPACING = 0.2
#: fitted points kept beyond the outermost knot on each side (tails extrapolated linearly)
TAIL_POINTS = 20


@dataclass(frozen=True)
class PiecewiseLinear:
    """Monotone piecewise-linear maps, one per column: knots ``x (c, K) -> z (c, K)``.

    Beyond the outer knots each map continues linearly with its outer slope.
    """

    x: np.ndarray
    z: np.ndarray

    def __call__(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map the columns of ``v`` (n, c); returns the image and ``log t'`` (both (n, c))."""
        out = np.empty_like(v)
        log_slope = np.empty_like(v)
        for j in range(v.shape[1]):
            xs, zs = self.x[j], self.z[j]
            seg = np.clip(np.searchsorted(xs, v[:, j], side="right") - 1, 0, len(xs) - 2)
            slope = (zs[seg + 1] - zs[seg]) / (xs[seg + 1] - xs[seg])
            out[:, j] = zs[seg] + slope * (v[:, j] - xs[seg])
            log_slope[:, j] = np.log(slope)
        return out, log_slope


def _knot_levels(n_fit: int) -> np.ndarray:
    """Standard-normal quantiles on a uniform grid, leaving ``TAIL_POINTS`` outside each end."""
    edge = float(-ndtri(min(TAIL_POINTS / n_fit, 0.25)))
    count = max(int(np.ceil(2.0 * edge / KNOT_SPACING)), 2) + 1
    return np.linspace(-edge, edge, count)


def _fit_columns(fit: np.ndarray, target_quantile) -> PiecewiseLinear:
    """Knots mapping the empirical quantiles of each column of ``fit`` to ``target_quantile``."""
    n_fit, cols = fit.shape
    levels = _knot_levels(n_fit)
    probs = ndtr(levels)
    xs = np.quantile(fit, probs, axis=0).T  # (cols, K)
    zs = np.broadcast_to(target_quantile(probs), xs.shape)
    knots_x, knots_z = [], []
    for j in range(cols):
        # tied quantiles (discrete data) would give infinite slopes: keep strictly increasing knots
        keep = np.concatenate(([True], np.diff(xs[j]) > 0))
        knots_x.append(xs[j][keep])
        knots_z.append(zs[j][keep])
    width = max(len(k) for k in knots_x)
    if min(len(k) for k in knots_x) < 2:
        raise ValueError("cannot Gaussianize a coordinate that takes a single value in the "
                         "sample; drop constant coordinates or pass correction=None.")
    # pad ragged knot lists by repeating the last segment's extension (keeps slopes unchanged)
    px = np.empty((cols, width))
    pz = np.empty((cols, width))
    for j, (kx, kz) in enumerate(zip(knots_x, knots_z)):
        extra = width - len(kx)
        slope = (kz[-1] - kz[-2]) / (kx[-1] - kx[-2])
        step = np.arange(1, extra + 1, dtype=np.float64)
        px[j] = np.concatenate((kx, kx[-1] + step))
        pz[j] = np.concatenate((kz, kz[-1] + slope * step))
    return PiecewiseLinear(px, pz)


def fit_marginal(fit: np.ndarray) -> PiecewiseLinear:
    """Per-coordinate maps taking the columns of ``fit`` (n_fit, d) to standard normals."""
    return _fit_columns(fit, ndtri)


def apply_marginal(maps: PiecewiseLinear, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(t(y), log|det J_t(y)|)``: shapes (n, d) and (n,)."""
    z, log_slope = maps(y)
    return z, log_slope.sum(axis=1)


def fit_radial(fit: np.ndarray) -> PiecewiseLinear:
    """Map of ``log |y|`` to ``log`` of a chi(d) radius, fitted on ``fit`` (n_fit, d)."""
    from scipy.stats import chi

    d = fit.shape[1]
    log_r = np.log(np.linalg.norm(fit, axis=1))[:, None]
    return _fit_columns(log_r, lambda p: np.log(chi.ppf(p, d)))


def apply_radial(maps: PiecewiseLinear, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``y -> (s(r) / r) y`` and its log-Jacobian ``log s'(r) + (d - 1) log(s(r) / r)``.

    ``s`` acts on log radii: ``log s = u(log r)``, so ``s'(r) = u'(log r) s / r``.
    """
    d = y.shape[1]
    r = np.linalg.norm(y, axis=1)
    log_r = np.log(r)
    log_s, log_du = maps(log_r[:, None])
    gain = log_s[:, 0] - log_r
    return y * np.exp(gain)[:, None], log_du[:, 0] + d * gain


def fit_ica_rotation(fit: np.ndarray, *, seed: int, max_iter: int = 200) -> np.ndarray:
    """Unmixing matrix (d, d) of FastICA on whitened ``fit`` (n_fit, d).

    Applied as ``y @ W.T``; ``log|det W|`` is taken exactly by the caller, so an
    unconverged ICA costs accuracy, never correctness.
    """
    import warnings

    from sklearn.decomposition import FastICA

    ica = FastICA(whiten=False, max_iter=max_iter, tol=1e-3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ica.fit(fit)
    return ica.components_


#: radial step applied when the estimated KL between the whitened sample's log radius and
#: that of N(0, I_d) exceeds this many nats (elliptical heavy tails; see docs/bias.md)
RADIAL_THRESHOLD = 1.0
#: points used to fit the ICA rotation (its cost grows with them; quality saturates)
ICA_POINTS = 20000


def radial_divergence(y: np.ndarray, *, seed: int) -> float:
    """1-D k-NN KL (nats) between ``log |y|`` and ``log |g|``, ``g ~ N(0, I_d)``, same size."""
    from .divergence import kl_divergence

    n, d = y.shape
    ref = np.random.default_rng(seed).standard_normal((n, d))
    log_r = np.log(np.linalg.norm(y, axis=1))[:, None]
    log_ref = np.log(np.linalg.norm(ref, axis=1))[:, None]
    return kl_divergence(log_r, log_ref, k=min(20, n - 1), n_blocks=2).value


def _affine(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centre = y.mean(axis=0)
    return centre, np.linalg.cholesky(np.atleast_2d(np.cov(y, rowvar=False)))


@dataclass(frozen=True)
class Gaussianizer:
    """A fitted chain of invertible steps: whitening, radial, rotation, marginal maps.

    ``steps`` holds ``(kind, parameters)`` with kind in {"affine", "radial",
    "rotation", "marginal"}.
    """

    steps: tuple

    def transform(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image of ``y`` (n, d) and the log-Jacobian of the whole chain at each point (n,)."""
        from scipy.linalg import solve_triangular

        log_jac = np.zeros(len(y))
        for kind, par in self.steps:
            if kind == "affine":
                centre, chol = par
                y = solve_triangular(chol, (y - centre).T, lower=True).T
                log_jac -= float(np.sum(np.log(np.diag(chol))))
            elif kind == "rotation":
                y = y @ par.T
                log_jac += float(np.linalg.slogdet(par)[1])
            elif kind == "radial":
                y, lj = apply_radial(par, y)
                log_jac += lj
            else:
                y, lj = apply_marginal(par, y)
                log_jac += lj
        return np.ascontiguousarray(y), log_jac

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind, _ in self.steps)


def fit_gaussianizer(fit: np.ndarray, *, seed: int, radial: bool | None = None) -> Gaussianizer:
    """Fit whitening, [radial map, whitening,] ICA rotation and marginal maps on ``fit``.

    ``radial=None`` decides by :func:`radial_divergence` against ``RADIAL_THRESHOLD``.
    """
    steps = []

    def add(kind, par):
        nonlocal fit
        steps.append((kind, par))
        fit, _ = Gaussianizer(((kind, par),)).transform(fit)

    add("affine", _affine(fit))
    if radial is None:
        radial = radial_divergence(fit, seed=seed) > RADIAL_THRESHOLD
    if radial:
        add("radial", fit_radial(fit))
        add("affine", _affine(fit))
    add("rotation", fit_ica_rotation(fit[:ICA_POINTS], seed=seed))
    add("marginal", fit_marginal(fit))
    return Gaussianizer(tuple(steps))
