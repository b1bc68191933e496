"""The report's figures: UP plane, uncertainty-distortion plane, eta(P; d)."""

from __future__ import annotations

import math
import os


def _num(entry):
    return None if entry is None else entry.get("value")


def _se(entry):
    if entry is None or entry.get("stderr") is None:
        return 0.0
    return entry["stderr"]


def write_figures(report: dict, outdir: str) -> list[str]:
    """Draw the three figures of a report into ``outdir`` (PNG and PDF each)."""
    from hpx_uncert.plots import (plot_eta, plot_uncertainty_distortion, plot_up_plane,
                                  save_figure)

    d = report["archive"]["D"]
    inh = report.get("inherent_uncertainty")
    inh_g = report.get("inherent_uncertainty_gaussian")
    written = []
    up_models, dist_models = [], []
    for name, rep in report["models"].items():
        per, unc = rep.get("perception"), rep.get("uncertainty")
        if unc is not None:
            P = _num(per)
            up_models.append({"name": name, "uncertainty": unc["value"],
                              "uncertainty_stderr": _se(unc),
                              "perception": None if P is None else max(P, 0.0),
                              "perception_stderr": _se(per)})
        dist = rep.get("distortion")
        if unc is not None and dist is not None:
            dist_models.append({"name": name, "uncertainty": unc["value"],
                                "uncertainty_stderr": _se(unc), "mse": dist["value"],
                                "mse_stderr": _se(dist)})
    if up_models and inh is not None and inh_g is not None:
        ax = plot_up_plane(up_models, d=d, n_inherent=inh["value"], n_gaussian=inh_g["value"],
                           n_inherent_stderr=_se(inh), n_gaussian_stderr=_se(inh_g),
                           title=f"Uncertainty-perception plane (d = {d}, k-NN estimates ± 1 se)")
        written += [str(p) for p in save_figure(ax.figure, os.path.join(outdir, "up_plane"))]
    gauss_models = []
    for name, rep in report["models"].items():
        unc, per = rep.get("uncertainty_gaussian"), rep.get("perception_gaussian")
        if unc is not None and per is not None:
            gauss_models.append({"name": name, "uncertainty": unc["value"],
                                 "uncertainty_stderr": _se(unc),
                                 "perception": max(per["value"], 0.0),
                                 "perception_stderr": _se(per)})
    if gauss_models and inh_g is not None:
        ax = plot_up_plane(gauss_models, d=d, n_inherent=inh_g["value"],
                           n_gaussian=inh_g["value"], n_inherent_stderr=_se(inh_g),
                           n_gaussian_stderr=_se(inh_g),
                           title=f"UP plane, Gaussian-moment estimates (d = {d}, ± 1 se)")
        written += [str(p) for p in save_figure(ax.figure,
                                                os.path.join(outdir, "up_plane_gaussian"))]
    if dist_models:
        ax = plot_uncertainty_distortion(dist_models, n_inherent=_num(inh),
                                         title=f"Uncertainty vs distortion (d = {d})")
        written += [str(p) for p in save_figure(ax.figure,
                                                os.path.join(outdir, "uncertainty_distortion"))]
    ds = sorted({1, 8, 64, 2048, int(d)})
    P_max = max([10.0] + [1.2 * m["perception"] for m in up_models
                          if m["perception"] is not None and math.isfinite(m["perception"])])
    ax = plot_eta(ds, P_max=P_max, title="eta(P; d): the price of perception, by dimension")
    written += [str(p) for p in save_figure(ax.figure, os.path.join(outdir, "eta"))]
    return written
