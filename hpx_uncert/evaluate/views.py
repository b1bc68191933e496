"""Sample vectors as the estimators see them: (g, S, L, D) per block.

A vector archive gives ``L = 1`` location of ``D = d`` values per sample; an image
archive cut into ``p×p`` patches gives ``L`` patch positions of ``D = C·p·p`` values
(``hpx_uncert.io.patch_vectors``). Differences of samples (errors) are taken on
the images before cutting, which is the same as on the patches.
"""

from __future__ import annotations

import numpy as np


def vector_shape(archive, settings) -> tuple[int, int]:
    """``(L, D)``: vectors per sample and their dimension."""
    if archive.layout != "image":
        return 1, archive.d
    from hpx_uncert.io import patch_grid

    patch = settings.patch
    if patch is None:
        raise ValueError(f"the archive holds images of shape {archive.sample_shape}; pass a "
                         f"patch size (e.g. --patch 9, optionally --stride) so estimates run "
                         f"on patch vectors.")
    rows, cols = patch_grid(archive.sample_shape, patch=patch, stride=settings.stride)
    return rows * cols, archive.sample_shape[0] * patch * patch


def as_vectors(samples: np.ndarray, archive, settings) -> np.ndarray:
    """(g, S, *sample_shape) stored samples → (g, S, L, D) float64 vectors."""
    g, s = samples.shape[:2]
    if archive.layout != "image":
        return np.asarray(samples, dtype=np.float64).reshape(g, s, 1, -1)
    from hpx_uncert.io import patch_vectors

    L, D = vector_shape(archive, settings)
    out = np.empty((g, s, L, D))
    for i in range(g):
        out[i] = patch_vectors(samples[i], patch=settings.patch, stride=settings.stride,
                               dtype=np.float64).reshape(s, L, D)
    return out
