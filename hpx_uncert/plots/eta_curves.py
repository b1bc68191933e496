"""Curves of Theorem 3's factor eta(P; d)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..theory import eta, eta_hellinger
from ..theory.bounds import _check_divergence
from ..theory._validate import check_dimension
from .figure import new_axes


def plot_eta(ds: Sequence[int] = (1, 8, 64, 2048), *, P_max=None, divergence="renyi1/2",
             ax=None, title=None):
    """Plot ``eta(P; d)`` against ``P`` for several dimensions.

    ``eta`` falls from 2 (posterior sampling costs twice the inherent
    uncertainty) towards 1; the larger ``d``, the more perception must be
    given up before the uncertainty drops.

    Parameters
    ----------
    ds : sequence of int
        Dimensions, one curve each.
    P_max : float, optional, keyword-only
        Right end of the ``P`` axis (nats); default 10 for ``"renyi1/2"``,
        1 for ``"hellinger2"``.
    divergence : {"renyi1/2", "hellinger2"}, keyword-only
        ``eta`` of ``D_1/2`` (Theorem 3) or of ``H^2`` (the conjectured variant).
    ax : matplotlib.axes.Axes, optional, keyword-only
        Axes to draw into; a new figure otherwise.
    title : str, optional, keyword-only
        Figure title.

    Returns
    -------
    matplotlib.axes.Axes
        Axes; each curve's gid is ``"eta_d<d>"``.
    """
    _check_divergence(divergence)
    ds = [check_dimension(d, "ds") for d in ds]
    if not ds:
        raise ValueError("ds must list at least one dimension, e.g. ds=(1, 8, 64).")
    hellinger = divergence == "hellinger2"
    if P_max is None:
        P_max = 1.0 if hellinger else 10.0
    P_max = float(P_max)
    if not (np.isfinite(P_max) and P_max > 0) or (hellinger and P_max > 1):
        allowed = "(0, 1]" if hellinger else "(0, inf)"
        raise ValueError(f"P_max must be in {allowed} for divergence={divergence!r}; "
                         f"got {P_max!r}.")
    t = np.linspace(0.0, 1.0, 500)
    grid = np.unique(np.concatenate([P_max * t**2, P_max * t]))
    ax = new_axes(ax, figsize=(7.0, 4.5))
    for d in ds:
        values = eta_hellinger(grid, d) if hellinger else eta(grid, d)
        ax.plot(grid, values, lw=1.8, gid=f"eta_d{d}", label=f"d = {d}")
    ax.axhline(2.0, color="0.5", lw=0.8, ls=":")
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlim(0.0, P_max)
    ax.set_ylim(0.95, 2.05)
    if hellinger:
        ax.set_xlabel(r"perception  $H^2(X, \hat X \mid Y)$  [0 to 1]")
        ax.set_ylabel(r"$\eta_H(P; d)$  [uncertainty / $N(X|Y)$]")
    else:
        ax.set_xlabel(r"perception  $P = D_{1/2}(X, \hat X \mid Y)$  [nats]")
        ax.set_ylabel(r"$\eta(P; d)$  [uncertainty / $N(X|Y)$]")
    ax.set_title(title if title is not None else
                 r"Minimal uncertainty factor $\eta(P; d)$: from 2 at $P = 0$ towards 1")
    ax.grid(True, alpha=0.25)
    ax.legend(title="signal dimension", fontsize=9)
    return ax
