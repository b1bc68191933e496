"""Patch vectors from image samples, block by block.

The appendix method of Cohen et al. treats images as stationary sources and
estimates entropies from ``p×p`` patches (``p = 9``). A patch vector holds the
``C·p·p`` values of one patch in ``(C, p, p)`` order. Patches are taken from a
``sliding_window_view`` (no copy) and copied once into the output block.

Per-location centring
---------------------
``centre=True`` subtracts, at every pixel (hence at every patch location), the
mean over the images passed together -- for an archive, the ``S`` samples of one
measurement from one model (or the reference). The pooled patches then describe
the fluctuation of the samples around their own per-location mean instead of
the image content, which differs from location to location and would otherwise
dominate a pooled entropy estimate. The centred patches of one measurement are
no longer independent (they sum to zero over the ``S`` samples at each
location): their covariance is ``(S-1)/S`` times the uncentred one, so entropy
powers of centred patches are low by the factor ``(S-1)/S``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .schema import MODELS, REFERENCE, TRUTH, parse_memory_budget


def _check_patch(patch, stride, height, width) -> tuple[int, int]:
    for name, value in (("patch", patch), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"The '{name}' parameter must be an int in the range [1, inf). "
                             f"Got {value!r} instead.")
    if patch > min(height, width):
        raise ValueError(f"patch={patch} does not fit in images of size {height}x{width}; use "
                         f"patch <= {min(height, width)}.")
    return int(patch), int(stride)


def patch_grid(image_shape, *, patch: int = 9, stride: int | None = None) -> tuple[int, int]:
    """Number of patch positions ``(n_rows, n_cols)`` in an image of shape (..., H, W).

    Positions start at 0 and step by ``stride`` while the patch fits:
    ``n_rows = (H - patch) // stride + 1``.
    """
    height, width = int(image_shape[-2]), int(image_shape[-1])
    patch, stride = _check_patch(patch, patch if stride is None else stride, height, width)
    return (height - patch) // stride + 1, (width - patch) // stride + 1


def patch_vectors(images, *, patch: int = 9, stride: int | None = None, centre: bool = False,
                  dtype=None) -> np.ndarray:
    """All ``patch × patch`` patches of a stack of images as vectors.

    Parameters
    ----------
    images : array of shape (n, C, H, W) or (C, H, W)
        Images of one stack (e.g. the ``M`` samples of one measurement).
    patch : int
        Patch side ``p`` in pixels.
    stride : int, optional
        Step between patch positions (default ``patch``: non-overlapping patches).
    centre : bool
        Subtract the mean image over the ``n`` images first (per-location centring,
        see the module notes).
    dtype : numpy dtype, optional
        Output dtype (default: the input's float type).

    Returns
    -------
    ndarray of shape (n * n_rows * n_cols, C * patch * patch)
        Row ``(i * n_rows + r) * n_cols + c`` is image ``i``'s patch at position
        ``(r·stride, c·stride)``, flattened in ``(C, p, p)`` order.
    """
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"images must have shape (n, C, H, W) or (C, H, W); got shape "
                         f"{arr.shape}.")
    if dtype is None:
        dtype = arr.dtype if arr.dtype.kind == "f" else np.float64
    stride = patch if stride is None else stride
    patch, stride = _check_patch(patch, stride, arr.shape[2], arr.shape[3])
    if centre:
        work = arr if arr.dtype.kind == "f" else arr.astype(np.float64)
        arr = work - work.mean(axis=0, keepdims=True)
    n, c = arr.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(arr, (patch, patch), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (n, C, rows, cols, p, p), still a view
    rows, cols = windows.shape[2:4]
    out = np.empty((n, rows, cols, c, patch, patch), dtype=dtype)
    out[...] = windows.transpose(0, 2, 3, 1, 4, 5)
    return out.reshape(n * rows * cols, c * patch * patch)


@dataclass
class PatchBlock:
    """Patch vectors of a block of whole measurements.

    ``vectors`` has shape (g, S, L, D): ``g`` measurements, ``S`` samples each
    (``M``, ``R``, or 1 for truth), ``L = n_rows·n_cols`` patch positions and
    ``D = C·p·p``. ``start``/``stop`` are global measurement offsets, ``ids`` the
    measurement ids, ``shard`` the shard index.
    """

    shard: int
    start: int
    stop: int
    ids: np.ndarray
    field: str
    vectors: np.ndarray


def iter_patch_blocks(archive, *, field: str = MODELS, model: str | None = None,
                      patch: int = 9, stride: int | None = None, centre: bool = False,
                      memory_budget=None, shards=None, dtype=np.float32) -> Iterator[PatchBlock]:
    """Patch vectors of an image archive, a block of whole measurements at a time.

    Parameters
    ----------
    archive : Archive
        An image-layout archive (``open_archive``).
    field : {"models", "reference", "truth"}
        Which samples to cut into patches.
    model : str, optional
        The model when ``field="models"``.
    patch, stride, centre
        As in :func:`patch_vectors`; centring is per measurement, over its ``S``
        samples (not allowed for ``truth``, which has one sample).
    memory_budget : int or str, optional
        Bound on the raw block plus its patch vectors, in bytes (default 256 MiB).
    shards : sequence of int, optional
        Restrict to these shards.
    dtype : numpy dtype
        Dtype of the patch vectors (float32 by default: the k-NN search runs in float32).

    Yields
    ------
    PatchBlock
    """
    if archive.layout != "image":
        raise ValueError(f"patches need an image archive (layout='image'); this archive has "
                         f"layout={archive.layout!r} with samples of shape {archive.sample_shape}.")
    if field == MODELS:
        if model not in archive.samples_per_model:
            raise ValueError(f"model must name one of {list(archive.models)}; got {model!r}.")
        samples, name = archive.samples_per_model[model], f"{MODELS}/{model}"
    elif field == REFERENCE and archive.has_reference:
        samples, name = archive.num_reference, REFERENCE
    elif field == TRUTH and archive.has_truth:
        samples, name = 1, TRUTH
    else:
        raise ValueError(f"field must be 'models', or 'reference'/'truth' when the archive has "
                         f"them; got {field!r}.")
    if centre and samples < 2:
        raise ValueError(f"centre=True needs at least 2 samples per measurement; {name} has "
                         f"{samples}.")
    c, h, w = archive.sample_shape
    stride = patch if stride is None else stride
    rows, cols = patch_grid((h, w), patch=patch, stride=stride)
    dim = c * patch * patch
    raw = archive.measurement_nbytes([name])
    per = raw + samples * rows * cols * dim * np.dtype(dtype).itemsize
    budget = parse_memory_budget(memory_budget)
    count = budget // per
    if count < 1:
        raise ValueError(f"memory_budget={budget} bytes cannot hold the patches of one "
                         f"measurement ({per} bytes); raise the budget or the stride.")
    for block in archive.iter_blocks(fields=[field], models=[model] if model else None,
                                     memory_budget=count * raw, shards=shards):
        data = block.arrays[name]
        if field == TRUTH:
            data = data[:, None]
        out = np.empty((len(block), samples, rows * cols, dim), dtype=dtype)
        for g in range(len(block)):
            out[g] = patch_vectors(data[g], patch=patch, stride=stride, centre=centre,
                                   dtype=dtype).reshape(samples, rows * cols, dim)
        yield PatchBlock(shard=block.shard, start=block.start, stop=block.stop, ids=block.ids,
                         field=name, vectors=out)
