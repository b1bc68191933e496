"""Patch vectors against a plain loop extraction, and the archive patch iterator."""

import numpy as np
import pytest

from hpx_uncert.io import iter_patch_blocks, open_archive, patch_grid, patch_vectors, write_archive


def naive_patches(images, p, stride):
    """Loop over images, rows, columns; each patch flattened in (C, p, p) order."""
    out = []
    n, c, h, w = images.shape
    for i in range(n):
        for r in range(0, h - p + 1, stride):
            for s in range(0, w - p + 1, stride):
                out.append(images[i, :, r:r + p, s:s + p].reshape(-1))
    return np.array(out)


@pytest.mark.parametrize("shape,p,stride", [((3, 2, 11, 9), 3, 1), ((2, 1, 10, 10), 4, 3),
                                            ((1, 3, 9, 9), 9, 9), ((4, 1, 12, 7), 5, None)])
def test_patch_vectors_match_loop(rng, shape, p, stride):
    images = rng.normal(size=shape)
    got = patch_vectors(images, patch=p, stride=stride)
    want = naive_patches(images, p, p if stride is None else stride)
    np.testing.assert_array_equal(got, want)
    rows, cols = patch_grid(shape, patch=p, stride=stride)
    assert got.shape == (shape[0] * rows * cols, shape[1] * p * p)


def test_centring_is_per_location_mean_over_the_stack(rng):
    images = rng.normal(size=(5, 2, 8, 8)) + np.arange(64.0).reshape(8, 8)  # content varies
    got = patch_vectors(images, patch=3, stride=2, centre=True)
    mean_image = images.mean(axis=0)
    want = naive_patches(images - mean_image, 3, 2)
    np.testing.assert_allclose(got, want, atol=1e-12)
    # at each location the centred patches of the stack sum to zero
    per_location = got.reshape(5, -1, 18)
    np.testing.assert_allclose(per_location.sum(axis=0), 0.0, atol=1e-10)


def test_single_image_and_dtype(rng):
    image = rng.normal(size=(1, 6, 6)).astype(np.float32)
    assert patch_vectors(image, patch=2).shape == (9, 4)
    assert patch_vectors(image, patch=2).dtype == np.float32
    assert patch_vectors(image, patch=2, dtype=np.float64).dtype == np.float64


def test_patch_errors(rng):
    with pytest.raises(ValueError, match=r"does not fit in images of size 4x5; use patch <= 4"):
        patch_vectors(np.zeros((1, 1, 4, 5)), patch=6)
    with pytest.raises(ValueError, match=r"'stride' parameter must be an int in the range"):
        patch_vectors(np.zeros((1, 1, 4, 5)), patch=2, stride=0)
    with pytest.raises(ValueError,
                       match=r"shape \(n, C, H, W\) or \(C, H, W\); got shape \(4, 5\)"):
        patch_vectors(np.zeros((4, 5)), patch=2)


def test_archive_patch_blocks_cover_everything(tmp_path, rng):
    g, m, shape = 7, 3, (2, 10, 8)
    models = {"s": rng.normal(size=(g, m, *shape)).astype(np.float32)}
    truth = rng.normal(size=(g, *shape)).astype(np.float32)
    arch = open_archive(write_archive(tmp_path / "img.h5", layout="image", truth=truth,
                                      models=models, chunk_measurements=1))
    p, stride = 3, 2
    rows, cols = patch_grid(shape, patch=p, stride=stride)
    per = models["s"][0].nbytes + m * rows * cols * 2 * p * p * 4
    blocks = list(iter_patch_blocks(arch, model="s", patch=p, stride=stride, centre=True,
                                    memory_budget=2 * per))
    assert [len(b.ids) for b in blocks] == [2, 2, 2, 1]
    for b in blocks:
        assert b.vectors.shape == (b.stop - b.start, m, rows * cols, 2 * p * p)
        for j, gi in enumerate(range(b.start, b.stop)):
            want = naive_patches(models["s"][gi] - models["s"][gi].mean(axis=0), p, stride)
            np.testing.assert_allclose(b.vectors[j].reshape(-1, 2 * p * p), want, atol=1e-5)
    truth_blocks = list(iter_patch_blocks(arch, field="truth", patch=p, stride=stride))
    got = np.concatenate([b.vectors[:, 0] for b in truth_blocks]).reshape(-1, 2 * p * p)
    np.testing.assert_array_equal(got, naive_patches(truth, p, stride))
    with pytest.raises(ValueError, match="centre=True needs at least 2 samples"):
        next(iter_patch_blocks(arch, field="truth", centre=True))
    with pytest.raises(ValueError, match="cannot hold the patches of one measurement"):
        next(iter_patch_blocks(arch, model="s", patch=p, memory_budget=100))


def test_patches_need_image_layout(tmp_path, rng):
    arch = open_archive(write_archive(tmp_path / "v.h5", models={"s": rng.normal(size=(2, 2, 9))}))
    with pytest.raises(ValueError, match="patches need an image archive"):
        next(iter_patch_blocks(arch, model="s"))
