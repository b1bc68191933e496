"""Synthetic workloads: archives written together with the answers they should give.

Each generator writes an archive (schema v1, block by block, so the same code
writes millions of samples) and ``<archive>.truth.json`` with every report
quantity (``{"value", "stderr", "method"}``): closed forms for the
linear-Gaussian problem, Monte Carlo on known densities for the Gaussian-mixture
prior, and an explicit "no exact answers" for natural images.
"""

from __future__ import annotations

from ._common import truth_path
from .images import make_images
from .linear_gaussian import make_linear_gaussian
from .mixture import MixturePosterior, make_gaussian_mixture

#: CLI kind -> generator
KINDS = {
    "linear-gaussian": make_linear_gaussian,
    "mixture": make_gaussian_mixture,
    "images": make_images,
}

__all__ = ["KINDS", "MixturePosterior", "make_gaussian_mixture", "make_images",
           "make_linear_gaussian", "truth_path"]
