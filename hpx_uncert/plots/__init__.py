"""Figures: the uncertainty-perception plane, uncertainty-distortion, eta(P; d).

The functions take plain numbers (lists of per-model dicts), not report files,
and return matplotlib axes; :func:`save_figure` writes PNG and PDF.
matplotlib is imported only when a figure is made.
"""

from .distortion import plot_uncertainty_distortion
from .eta_curves import plot_eta
from .figure import save_figure
from .up_plane import plot_up_plane

__all__ = ["plot_eta", "plot_uncertainty_distortion", "plot_up_plane", "save_figure"]
