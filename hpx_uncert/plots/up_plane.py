"""The uncertainty-perception plane with Theorem 3's regions."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from ..theory import classify_region, up_bounds
from ..theory.bounds import _check_divergence
from ._models import read_models
from .figure import new_axes

IMPOSSIBLE_COLOR = "#9e9e9e"
OPTIMAL_COLOR = "#74c69d"
SUBOPTIMAL_COLOR = "#f4a261"

_X_LABELS = {
    "renyi1/2": r"perception  $D_{1/2}(X, \hat X \mid Y)$  [nats]",
    "hellinger2": r"perception  $H^2(X, \hat X \mid Y)$  [0 to 1]",
}
_Y_LABEL = r"uncertainty  $N(\hat X - X \mid Y)$  [signal units$^2$]"


def _knee(d: int) -> float:
    """``D_1/2`` where eta has fallen to 1.1 (most of the tradeoff lies left of it)."""
    gamma = 0.1
    return 0.5 * d * math.log((1 + gamma) ** 2 / (4 * gamma))   # 2P/d on Theorem 3's curve


def _perception_grid(x_max: float) -> np.ndarray:
    # eta has infinite slope at P = 0: put more points near it
    t = np.linspace(0.0, 1.0, 400)
    return np.unique(np.concatenate([x_max * t**2, x_max * t]))


def plot_up_plane(models: Sequence[Mapping[str, Any]], *, d, n_inherent, n_gaussian,
                  divergence="renyi1/2", n_inherent_stderr=0.0, n_gaussian_stderr=0.0,
                  z=2.0, ax=None, title=None):
    """Draw models in the uncertainty-perception (UP) plane.

    The impossible region lies below ``eta(P; d) N(X|Y)`` (shaded grey), the
    optimal band between ``eta N(X|Y)`` and ``eta N(X_G|Y)`` (green), the
    suboptimal region above. Each model is a point with ±1 standard error
    bars, labelled with its region call (:func:`hpx_uncert.theory.classify_region`
    at ``z`` standard errors). A model with infinite perception (a
    deterministic estimator) is drawn in a separate column at the right edge,
    labelled infinity; one whose perception is ``None`` (not measured) is a
    dotted horizontal line at its uncertainty.

    Parameters
    ----------
    models : list of dict
        One dict per model: ``"name"``, ``"perception"`` (nats for
        ``"renyi1/2"``, [0, 1] for ``"hellinger2"``; ``inf`` or ``None`` allowed),
        ``"uncertainty"`` (squared signal units), and optional
        ``"perception_stderr"``, ``"uncertainty_stderr"``. An ``Estimate`` may
        stand in for a number.
    d : int, keyword-only
        Signal dimension (patch or vector size).
    n_inherent, n_gaussian : float, keyword-only
        ``N(X|Y)`` and ``N(X_G|Y)`` of the problem.
    divergence : {"renyi1/2", "hellinger2"}, keyword-only
        Which perception index the models report.
    n_inherent_stderr, n_gaussian_stderr : float, keyword-only
        Standard errors of the two entropy powers, used in the region calls.
    z : float, keyword-only
        Standard errors a region call needs.
    ax : matplotlib.axes.Axes, optional, keyword-only
        Axes to draw into; a new figure is made otherwise.
    title : str, optional, keyword-only
        Figure title (a default names the plane and ``d``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes; save with ``save_figure(ax.figure, path)``. The shaded
        regions carry gids ``"impossible"`` and ``"optimal"``.
    """
    from matplotlib.ticker import MaxNLocator

    _check_divergence(divergence)
    lower_inf, upper_inf = up_bounds(math.inf if divergence == "renyi1/2" else 1.0, d,
                                     n_inherent, n_gaussian, divergence=divergence)
    points = read_models(models, ("perception", "uncertainty"), ("perception", "uncertainty"))
    ax = new_axes(ax, figsize=(10.5, 5.5))

    finite = [p for p in points if p.values["perception"] is not None
              and math.isfinite(p.values["perception"]) and p.values["uncertainty"] is not None]
    at_infinity = [p for p in points if p.values["perception"] is not None
                   and math.isinf(p.values["perception"]) and p.values["uncertainty"] is not None]
    unmeasured = [p for p in points if p.values["perception"] is None
                  and p.values["uncertainty"] is not None]
    skipped = [p.name for p in points if p.values["uncertainty"] is None]

    if divergence == "hellinger2":
        x_max = 1.0
    else:
        reach = [p.values["perception"] + p.stderrs["perception"] for p in finite]
        x_max = max([_knee(d)] + [1.1 * r for r in reach])
    grid = _perception_grid(x_max)
    lower, upper = up_bounds(grid, d, n_inherent, n_gaussian, divergence=divergence)

    ys = [2.0 * max(n_gaussian, n_inherent)]
    ys += [p.values["uncertainty"] + p.stderrs["uncertainty"] for p in points
           if p.values["uncertainty"] is not None]
    lows = [n_inherent] + [p.values["uncertainty"] - p.stderrs["uncertainty"] for p in points
                           if p.values["uncertainty"] is not None]
    y_top = 1.12 * max(ys)
    y_bottom = max(0.0, min(lows) - 0.15 * (y_top - min(lows)))

    ax.fill_between(grid, 0.0, lower, color=IMPOSSIBLE_COLOR, alpha=0.45, lw=0, hatch="//",
                    gid="impossible", label=r"impossible  (below $\eta(P;d)\,N(X|Y)$)")
    ax.fill_between(grid, lower, upper, color=OPTIMAL_COLOR, alpha=0.45, lw=0, gid="optimal",
                    label=r"optimal band  ($\eta N(X|Y)$ to $\eta N(X_G|Y)$)")
    ax.plot(grid, lower, color="black", lw=1.6, gid="lower_bound",
            label=rf"$\eta(P; d{{=}}{d})\,N(X|Y)$,  $N(X|Y) = {n_inherent:.3g}$")
    ax.plot(grid, upper, color="black", lw=1.2, ls="--", gid="upper_bound",
            label=rf"$\eta(P; d)\,N(X_G|Y)$,  $N(X_G|Y) = {n_gaussian:.3g}$")
    ax.text(0.62 * x_max, y_top - 0.06 * (y_top - y_bottom), "suboptimal", ha="center",
            va="top", fontsize=11, color="#b5651d", fontweight="bold")
    ax.text(0.62 * x_max, 0.5 * (y_bottom + min(lower_inf, y_top)), "impossible",
            ha="center", va="center", fontsize=11, color="#424242", fontweight="bold")

    colors = _color_cycle()
    for p in finite:
        _draw_point(ax, p, p.values["perception"], next(colors), d, n_inherent, n_gaussian,
                    divergence, n_inherent_stderr, n_gaussian_stderr, z, marker="o")

    x_right = x_max
    if at_infinity:
        gap = 0.06 * x_max
        x_edge = x_max + 2 * gap
        x_right = x_edge + gap
        ax.axvline(x_max + gap, color="0.4", lw=0.8, ls=":")
        ax.fill_between([x_edge - 0.5 * gap, x_edge + 0.5 * gap], 0.0, lower_inf,
                        color=IMPOSSIBLE_COLOR, alpha=0.45, lw=0, hatch="//",
                        gid="impossible_at_infinity")
        ax.fill_between([x_edge - 0.5 * gap, x_edge + 0.5 * gap], lower_inf, upper_inf,
                        color=OPTIMAL_COLOR, alpha=0.45, lw=0, gid="optimal_at_infinity")
        for p in at_infinity:
            _draw_point(ax, p, x_edge, next(colors), d, n_inherent, n_gaussian, divergence,
                        n_inherent_stderr, n_gaussian_stderr, z, marker=">", infinite=True)
        ticks = [t for t in MaxNLocator(6).tick_values(0.0, x_max) if 0 <= t <= x_max]
        ax.set_xticks(ticks + [x_edge], [f"{t:g}" for t in ticks] + [r"$\infty$"])
    for p in unmeasured:
        color = next(colors)
        ax.axhline(p.values["uncertainty"], color=color, lw=1.5, ls=":",
                   label=f"{p.name}  (perception not measured)")

    ax.set_xlim(0.0, x_right)
    ax.set_ylim(y_bottom, y_top)
    ax.set_xlabel(_X_LABELS[divergence])
    ax.set_ylabel(_Y_LABEL)
    ax.set_title(title if title is not None else f"Uncertainty-perception plane (d = {d})")
    ax.grid(True, alpha=0.25)
    notes = f"error bars: ±1 standard error;  [region]: call at z = {z:g} standard errors"
    if at_infinity:
        notes += r";  $\infty$: deterministic model, $D_{1/2} = \infty$"
    if skipped:
        notes += ";  not shown (no uncertainty): " + ", ".join(skipped)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8.5, title=notes,
              title_fontsize=7.5, frameon=False)
    return ax


def _draw_point(ax, p, x, color, d, n_inherent, n_gaussian, divergence, se_n, se_ng, z, *,
                marker, infinite=False):
    P, U = p.values["perception"], p.values["uncertainty"]
    call = classify_region(max(U, 0.0), P, d, n_inherent, n_gaussian,
                           uncertainty_stderr=p.stderrs["uncertainty"],
                           perception_stderr=0.0 if infinite else p.stderrs["perception"],
                           n_inherent_stderr=se_n, n_gaussian_stderr=se_ng, z=z,
                           divergence=divergence)
    xerr = None if infinite or p.stderrs["perception"] == 0 else p.stderrs["perception"]
    yerr = p.stderrs["uncertainty"] or None
    label = f"{p.name}  [{call.region}]"
    if infinite:
        label = f"{p.name}  (P = inf)  [{call.region}]"
    ax.errorbar([x], [U], xerr=xerr, yerr=yerr, fmt=marker, ms=7, color=color, capsize=3,
                mec="black", mew=0.6, label=label, zorder=5)
    ax.annotate(p.name, (x, U), xytext=(6, 6), textcoords="offset points", fontsize=8,
                color=color, zorder=6)


def _color_cycle():
    palette = ["#1f77b4", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#2ca02c", "#ff7f0e", "#7f7f7f"]
    while True:
        yield from palette

