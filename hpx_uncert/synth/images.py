"""Image workload: natural-image tiles, 4x down-sampling or random masks, simple restorers.

Tiles come from the grey-level images shipped with scikit-image (``skimage.data``;
no download). Values are in [0, 1] (``data_range = 1``), layout ``"image"`` with
``C = 1``.

Degradations
------------
* ``"downsample"``: ``y`` = the mean of each ``factor × factor`` block (area
  down-sampling) plus white noise of std ``noise_std``. ``measurement`` holds ``y``
  of shape (1, H/factor, W/factor).
* ``"inpaint"``: a random fraction ``mask_fraction`` of the pixels is lost; the rest
  is observed with noise. ``measurement`` has two channels: the observed values
  (0 where lost) and the mask (1 = observed).

Restorers (``models``)
----------------------
Down-sampling: ``nearest`` and ``bicubic`` up-sampling (deterministic, ``M = 1``);
``bicubic_noise`` (bicubic plus white noise of std ``sampler_std``: stochastic but
ignores the measurement, so its draws are inconsistent with ``y``); and
``backprojection_sampler``: bicubic, corrected so that its block means equal ``y``
exactly, plus noise whose block means are zero -- every draw is consistent with the
measurement, the spread lives only in the details ``y`` cannot see.
Inpainting: ``mean_fill`` (lost pixels get the mean of the observed ones),
``biharmonic`` (``skimage.restoration.inpaint_biharmonic``) and ``biharmonic_noise``
(biharmonic plus noise on the lost pixels only, observed pixels kept).

No exact answers exist for natural images (their posterior is unknown); the JSON
says so and records the parameters. There is no ``reference``.
"""

from __future__ import annotations

import time

import numpy as np

from ._common import block_rng, write_answers, write_generated

DEFAULT_IMAGES = ("camera", "moon", "coins", "text", "page", "brick", "grass", "gravel",
                  "clock", "astronaut", "coffee", "chelsea")
DEGRADATIONS = ("downsample", "inpaint")


def load_tiles(names=DEFAULT_IMAGES, *, tile: int = 32) -> np.ndarray:
    """Non-overlapping ``tile × tile`` grey tiles of skimage's sample images.

    Returns
    -------
    ndarray of shape (n_tiles, tile, tile) float64 in [0, 1]
    """
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.util import img_as_float

    tiles = []
    for name in names:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            raise ValueError(f"skimage.data has no image {name!r}; choose from "
                             f"{list(DEFAULT_IMAGES)} or other names in skimage.data.")
        img = img_as_float(loader())
        if img.ndim == 3:
            img = rgb2gray(img[..., :3])
        h, w = (img.shape[0] // tile) * tile, (img.shape[1] // tile) * tile
        blocks = img[:h, :w].reshape(h // tile, tile, w // tile, tile).swapaxes(1, 2)
        tiles.append(blocks.reshape(-1, tile, tile))
    return np.concatenate(tiles)


def _block_mean(x, f):
    *lead, h, w = x.shape
    return x.reshape(*lead, h // f, f, w // f, f).mean(axis=(-3, -1))


def _up_nearest(y, f):
    return np.repeat(np.repeat(y, f, axis=-2), f, axis=-1)


def _bicubic(y, f):
    from skimage.transform import resize
    h, w = y.shape[-2:]
    return np.stack([resize(img, (h * f, w * f), order=3, mode="reflect", anti_aliasing=False)
                     for img in y.reshape(-1, h, w)]).reshape(*y.shape[:-2], h * f, w * f)


def make_images(path, *, degradation: str = "downsample", images=DEFAULT_IMAGES,
                tile: int = 32, factor: int = 4, noise_std: float = 0.01,
                mask_fraction: float = 0.5, sampler_std: float = 0.05,
                num_measurements: int = 64, model_samples: int = 8, seed: int = 0,
                shards: int = 1, dtype=np.float32, compression=None,
                fletcher32: bool = False) -> dict:
    """Write an image-layout archive of natural-image tiles and restorers' outputs.

    Parameters
    ----------
    path : str or os.PathLike
        ``*.h5`` file (``shards=1``) or directory of shards.
    degradation : {"downsample", "inpaint"}
    images : sequence of str
        ``skimage.data`` image names.
    tile, factor : int
        Tile side (pixels) and down-sampling factor (``tile % factor == 0``).
    noise_std, mask_fraction, sampler_std : float
        Measurement noise std, fraction of lost pixels, stochastic restorers' noise std.
    num_measurements : int
        ``G``; beyond the number of distinct tiles, tiles repeat under random flips and
        90° rotations with fresh noise.
    model_samples : int
        ``M`` of the stochastic restorers.
    seed, shards, dtype, compression, fletcher32
        As in :func:`~hpx_uncert.synth.make_linear_gaussian`.

    Returns
    -------
    dict
        The JSON written beside the archive (``"exact": false``).
    """
    if degradation not in DEGRADATIONS:
        raise ValueError(f"degradation must be one of {DEGRADATIONS}; got {degradation!r}.")
    if tile % factor:
        raise ValueError(f"tile={tile} must be a multiple of factor={factor}.")
    if not 0 < mask_fraction < 1:
        raise ValueError(f"mask_fraction must be in (0, 1); got {mask_fraction!r}.")
    tiles = load_tiles(images, tile=tile)
    order = np.random.default_rng([int(seed), 31337]).permutation(len(tiles))
    dtype = np.dtype(dtype)

    def pick(lo, hi, rng):
        idx = np.arange(lo, hi)
        x = tiles[order[idx % len(tiles)]].copy()
        for j in np.flatnonzero(idx >= len(tiles)):  # repeats: a random dihedral transform
            x[j] = np.rot90(x[j], rng.integers(4))
            if rng.integers(2):
                x[j] = x[j][:, ::-1]
        return x

    def generate(lo, hi):
        rng = block_rng(seed, lo)
        x = pick(lo, hi, rng)
        g = len(x)
        if degradation == "downsample":
            y = _block_mean(x, factor) + noise_std * rng.standard_normal((g, tile // factor,
                                                                          tile // factor))
            bic = _bicubic(y, factor)
            z = sampler_std * rng.standard_normal((g, model_samples, tile, tile))
            consistent = bic + _up_nearest(y - _block_mean(bic, factor), factor)
            models = {
                "nearest": _up_nearest(y, factor)[:, None],
                "bicubic": bic[:, None],
                "bicubic_noise": bic[:, None] + sampler_std * rng.standard_normal(
                    (g, model_samples, tile, tile)),
                "backprojection_sampler": consistent[:, None] + z
                - _up_nearest(_block_mean(z, factor), factor),
            }
            meas = y[:, None]
        else:
            from skimage.restoration import inpaint_biharmonic
            observed = rng.random((g, tile, tile)) >= mask_fraction
            y = np.where(observed, x + noise_std * rng.standard_normal(x.shape), 0.0)
            fill = np.array([np.where(o, v, v[o].mean() if o.any() else 0.5)
                             for v, o in zip(y, observed)])
            bih = np.array([inpaint_biharmonic(v, ~o) for v, o in zip(y, observed)])
            noise = sampler_std * rng.standard_normal((g, model_samples, tile, tile))
            models = {"mean_fill": fill[:, None], "biharmonic": bih[:, None],
                      "biharmonic_noise": bih[:, None] + noise * (~observed)[:, None]}
            meas = np.stack([y, observed.astype(np.float64)], axis=1)
        return dict(truth=x[:, None].astype(dtype),
                    models={k: v[:, :, None].astype(dtype) for k, v in models.items()},
                    ids=np.arange(lo, hi), measurement=meas.astype(dtype))

    per = dtype.itemsize * tile * tile * (3 + 2 * model_samples)
    started = time.perf_counter()
    write_generated(path, num_measurements=num_measurements, shards=shards,
                    bytes_per_measurement=per, generate=generate, layout="image",
                    writer_options=dict(compression=compression, fletcher32=fletcher32),
                    attrs={"description": f"hpx_uncert synthetic image workload ({degradation})",
                           "synthetic_kind": f"images_{degradation}", "data_range": 1.0})
    answers = {
        "kind": f"images_{degradation}",
        "exact": False,
        "archive": str(path),
        "note": ("no exact answers: the posterior of natural images is unknown, so neither "
                 "N(X|Y) nor any model's uncertainty or perception has a reference value; "
                 "use this archive for speed, smoke tests and comparisons between models"),
        "parameters": {"degradation": degradation, "images": list(images), "tile": tile,
                       "factor": factor, "noise_std": noise_std,
                       "mask_fraction": mask_fraction, "sampler_std": sampler_std,
                       "num_measurements": int(num_measurements),
                       "model_samples": int(model_samples), "distinct_tiles": int(len(tiles)),
                       "seed": int(seed), "shards": int(shards), "dtype": dtype.name,
                       "data_range": 1.0},
        "seconds_to_write": round(time.perf_counter() - started, 3),
    }
    write_answers(path, answers)
    return answers
