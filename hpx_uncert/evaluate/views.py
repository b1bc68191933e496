"""Sample vectors as the estimators see them: (g, S, L, D) per block.

A vector archive gives ``L = 1`` location of ``D = d`` values per sample; an image
archive cut into ``p×p`` patches gives ``L`` patch positions of ``D = C·p·p`` values
(``hpx_uncert.io.patch_vectors``). Differences of samples (errors) are taken on
the images before cutting, which is the same as on the patches.

Per-location centring (image archives, ``Settings.centre``)
-----------------------------------------------------------
A per-measurement estimate pools the ``S·L`` patch vectors of one measurement.
Uncentred, their spread is dominated by how the image content changes from one
location to the next, not by the posterior at a location. Centring removes the
content; the centred vectors are then draws of the posterior's fluctuation,
pooled over locations as from a stationary source. Two kinds of centring:

- :func:`centre_own` (``spread``, ``inherent_uncertainty``): each sample minus the
  per-pixel mean of the ``S`` samples it belongs to. The centred vectors have
  ``(S-1)/S`` times the covariance of the samples; the merge undoes this on the
  entropy power (exact for Gaussian posteriors, see docs/evaluate.md).
- :func:`reference_channel` (``perception``, ``hellinger2``, ``kl``): both the
  reference draw ``r_i`` and the model sample ``x̂_j`` lose the per-pixel mean of
  ``R-1`` reference draws that do not include the draw itself (for ``x̂_j``: all
  but ``r_{j mod R}``). That mean is independent of the sample it is taken from
  and has the same law in both cases, so both posteriors go through the same
  independent noise channel: a model's bias stays visible, a model equal to the
  reference stays at divergence 0, and the divergence can only shrink (data
  processing), never be invented.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np


def resolve_centre(archive, settings):
    """``settings`` with ``centre`` decided for ``archive`` (on for images by default)."""
    if settings.centre is None:
        return replace(settings, centre=archive.layout == "image")
    if settings.centre and archive.layout != "image":
        raise ValueError(f"centre=True applies to image archives (per-location centring of "
                         f"patches); this archive has layout={archive.layout!r}, whose "
                         f"samples are whole posterior draws. Leave centre unset (None).")
    return settings


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


def centre_own(v: np.ndarray) -> np.ndarray:
    """(g, S, L, D) vectors minus their mean over the ``S`` samples, per location.

    The result has ``(S-1)/S`` times the covariance of the samples at each location.
    """
    return v - v.mean(axis=1, keepdims=True)


def reference_channel(ref: np.ndarray, x: np.ndarray | None = None):
    """Reference draws and model samples centred by leave-out reference means.

    Parameters
    ----------
    ref : ndarray of shape (g, R, L, D)
        Reference draws, ``R >= 2``.
    x : ndarray of shape (g, M, L, D), optional
        Model samples of the same measurements.

    Returns
    -------
    ref_c : ndarray of shape (g, R, L, D)
        ``r_i - mean_{k != i} r_k``.
    x_c : ndarray of shape (g, M, L, D) or None
        ``x̂_j - mean_{k != j mod R} r_k``.

    Notes
    -----
    Both subtract the mean of ``R-1`` reference draws independent of the vector
    itself, so for any posterior the centred reference and model vectors at a
    location are the location's posterior and model laws, shifted by the same
    posterior mean and convolved with the same law (that of ``-mean`` of ``R-1``
    posterior draws, covariance ``Σ_ref / (R-1)``).
    """
    R = ref.shape[1]
    if R < 2:
        raise ValueError(f"reference centring needs at least 2 reference draws per "
                         f"measurement; got R={R}. Pass centre=False, or add draws.")
    total = ref.sum(axis=1, keepdims=True)
    ref_c = (R * ref - total) / (R - 1)
    if x is None:
        return ref_c, None
    pick = np.arange(x.shape[1]) % R
    x_c = x - (total - ref[:, pick]) / (R - 1)
    return ref_c, x_c
