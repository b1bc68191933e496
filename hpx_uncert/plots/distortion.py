"""The uncertainty-distortion plane with Theorem 4's feasible side."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..theory import theorem4_holds
from ._models import read_models
from .figure import new_axes


def plot_uncertainty_distortion(models: Sequence[Mapping[str, Any]], *, n_inherent=None,
                                z=2.0, ax=None, title=None):
    """Per-dimension MSE against uncertainty, with Theorem 4's line ``MSE = N``.

    Theorem 4: an unbiased estimator has ``(1/d) E||X_hat - X||^2 >=
    N(X_hat - X | Y)``, so points below the diagonal (shaded) are infeasible
    for unbiased estimators; one found there signals bias in the estimator or
    in the entropy estimate. Each model is labelled with the check at ``z``
    standard errors.

    Parameters
    ----------
    models : list of dict
        One dict per model: ``"name"``, ``"uncertainty"`` (``N(X_hat - X | Y)``,
        squared signal units), ``"mse"`` (per-dimension MSE, same units), and
        optional ``"uncertainty_stderr"``, ``"mse_stderr"``. ``None`` values
        leave the model out (listed in the legend).
    n_inherent : float, optional, keyword-only
        ``N(X|Y)``: every estimator has uncertainty >= it; drawn as a vertical line.
    z : float, keyword-only
        Standard errors a violation must exceed to be flagged.
    ax : matplotlib.axes.Axes, optional, keyword-only
        Axes to draw into; a new figure otherwise.
    title : str, optional, keyword-only
        Figure title.

    Returns
    -------
    matplotlib.axes.Axes
        Axes; the shaded infeasible region has gid ``"infeasible"``.
    """
    points = read_models(models, ("uncertainty", "mse"), ("uncertainty", "mse"))
    ax = new_axes(ax, figsize=(10.5, 5.5))
    shown = [p for p in points if p.values["uncertainty"] is not None
             and p.values["mse"] is not None]
    skipped = [p.name for p in points if p not in shown]

    highs = [p.values[k] + p.stderrs[k] for p in shown for k in ("uncertainty", "mse")]
    if n_inherent is not None:
        highs.append(float(n_inherent))
    top = 1.15 * max(highs) if highs else 1.0
    ax.fill_between([0.0, top], [0.0, 0.0], [0.0, top], color="#9e9e9e", alpha=0.45,
                    hatch="//", lw=0, gid="infeasible",
                    label="infeasible for unbiased estimators (Theorem 4)")
    ax.plot([0.0, top], [0.0, top], color="black", lw=1.4,
            label=r"MSE $= N(\hat X - X \mid Y)$")
    if n_inherent is not None:
        ax.axvline(float(n_inherent), color="black", lw=1.0, ls="--",
                   label=rf"$N(X|Y) = {float(n_inherent):.3g}$ (no estimator is left of it)")

    for p, color in zip(shown, _palette()):
        U, mse = p.values["uncertainty"], p.values["mse"]
        check = theorem4_holds(mse, max(U, 0.0), mse_stderr=p.stderrs["mse"],
                               uncertainty_stderr=p.stderrs["uncertainty"], z=z)
        verdict = "ok" if check.holds else "violates Thm 4"
        ax.errorbar([U], [mse], xerr=p.stderrs["uncertainty"] or None,
                    yerr=p.stderrs["mse"] or None, fmt="o", ms=7, color=color, capsize=3,
                    mec="black", mew=0.6, label=f"{p.name}  [{verdict}]", zorder=5)
        ax.annotate(p.name, (U, mse), xytext=(6, 6), textcoords="offset points", fontsize=8,
                    color=color)

    ax.set_xlim(0.0, top)
    ax.set_ylim(0.0, top)
    ax.set_xlabel(r"uncertainty  $N(\hat X - X \mid Y)$  [signal units$^2$]")
    ax.set_ylabel(r"distortion  MSE per dimension  [signal units$^2$]")
    ax.set_title(title if title is not None else "Uncertainty-distortion plane")
    ax.grid(True, alpha=0.25)
    notes = f"error bars: ±1 standard error;  [check]: Theorem 4 at z = {z:g} standard errors"
    if skipped:
        notes += ";  not shown (missing values): " + ", ".join(skipped)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8.5, title=notes,
              title_fontsize=7.5, frameon=False)
    return ax


def _palette():
    palette = ["#1f77b4", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22", "#2ca02c", "#ff7f0e", "#7f7f7f"]
    while True:
        yield from palette
