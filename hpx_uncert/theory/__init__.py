"""Closed forms and bounds of the uncertainty-perception theory (numpy/scipy only).

Entropy power, Theorem 3's ``eta(P; d)`` and its Hellinger variant, the bounds
of Theorems 1 and 3 with the UP-plane regions, Theorem 4's check, Example 1,
Gaussian closed forms and the linear-Gaussian problem whose optimal estimator
family traces the bound exactly. See ``docs/theory.md``.
"""

from __future__ import annotations

from .bounds import (DIVERGENCES, BoundCheck, RegionCall, classify_region, theorem1_bounds,
                     theorem4_holds, up_bounds)
from .entropy_power import entropy_to_power, power_to_entropy
from .eta import eta, eta_hellinger, gamma_from_perception
from .example1 import example1_perception, example1_posterior_variance, example1_uncertainty
from .linear_gaussian import (LinearGaussianPosterior, gamma_family_perception,
                              gamma_family_uncertainty, linear_gaussian_posterior)
from .normal import (normal_d_half, normal_entropy, normal_entropy_power, normal_hellinger2,
                     normal_kl, normal_renyi)

__all__ = [
    "DIVERGENCES", "BoundCheck", "LinearGaussianPosterior", "RegionCall",
    "classify_region", "entropy_to_power", "eta", "eta_hellinger",
    "example1_perception", "example1_posterior_variance", "example1_uncertainty",
    "gamma_family_perception", "gamma_family_uncertainty", "gamma_from_perception",
    "linear_gaussian_posterior", "normal_d_half", "normal_entropy", "normal_entropy_power",
    "normal_hellinger2", "normal_kl", "normal_renyi", "power_to_entropy",
    "theorem1_bounds", "theorem4_holds", "up_bounds",
]
