"""hpx_uncert: measure hallucination in generative image restoration.

Entropy power of errors, divergences between posteriors, distortion and where
each restoration model sits against the uncertainty-perception bound of Cohen,
Kligvasser, Rivlin and Freedman (NeurIPS 2024), from k-NN and Gaussian
estimators, on CPU or GPU.

Heavy dependencies (faiss, numba, h5py, matplotlib, cupy) are imported lazily,
on first use of the function that needs them.
"""

from __future__ import annotations

import importlib

from ._estimate import Estimate

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    # k-NN estimators
    "entropy": "hpx_uncert.estimators.entropy",
    "entropy_power": "hpx_uncert.estimators.entropy",
    "kl_divergence": "hpx_uncert.estimators.divergence",
    "renyi_divergence": "hpx_uncert.estimators.divergence",
    "hellinger2": "hpx_uncert.estimators.divergence",
    # Gaussian plug-ins from sample moments
    "gaussian_entropy": "hpx_uncert.estimators.gaussian",
    "gaussian_entropy_power": "hpx_uncert.estimators.gaussian",
    "gaussian_kl": "hpx_uncert.estimators.gaussian",
    "gaussian_renyi": "hpx_uncert.estimators.gaussian",
    # grouped (conditional) forms
    "conditional_entropy": "hpx_uncert.estimators.conditional",
    "conditional_entropy_power": "hpx_uncert.estimators.conditional",
    "conditional_kl_divergence": "hpx_uncert.estimators.conditional",
    "conditional_renyi_divergence": "hpx_uncert.estimators.conditional",
    "conditional_hellinger2": "hpx_uncert.estimators.conditional",
    # neighbour search
    "knn_distances": "hpx_uncert.neighbors",
    # archives and the pipeline
    "open_archive": "hpx_uncert.io",
    "write_archive": "hpx_uncert.io",
    "evaluate": "hpx_uncert.evaluate",
}

__all__ = ["Estimate", "theory", *sorted(_LAZY)]


def __getattr__(name: str):
    if name == "theory":
        return importlib.import_module("hpx_uncert.theory")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hpx_uncert' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
