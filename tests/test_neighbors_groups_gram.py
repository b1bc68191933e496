"""The float32-product route of the grouped k-NN against the plain-loop reference.

The route is exact only through its float64 re-measure and its fallback scan, so
the cases here aim at both: clusters far from their group's mean (large float32
round-off, many rows fall back), near ties on an integer grid, duplicates, and
uneven or empty groups.
"""

import numpy as np
import pytest

import naive
from hpx_uncert.neighbors import groups_gram
from hpx_uncert.neighbors.groups import _grouped_knn_sq
from hpx_uncert.neighbors.groups_gram import GRAM_MIN_DIM, grouped_knn_sq_gram

RTOL = 1e-12


@pytest.fixture(autouse=True, params=["blas", "compiled-loop"])
def products(request, monkeypatch):
    """Run every case with BLAS products (threadpoolctl present) and with the loop."""
    if request.param == "compiled-loop":
        monkeypatch.setattr(groups_gram, "_single_threaded_blas", lambda: None)
    else:
        pytest.importorskip("threadpoolctl")
    return request.param


def _gram(q, q_off, x, x_off, k, exclude_self):
    out = np.empty((len(q), k))
    grouped_knn_sq_gram(q, np.asarray(q_off), x, np.asarray(x_off), k, exclude_self, out)
    return np.sqrt(out)


def _naive_groups(q, q_off, x=None, x_off=None, k=1):
    out = np.empty((len(q), k))
    for g in range(len(q_off) - 1):
        lo, hi = q_off[g], q_off[g + 1]
        if hi > lo:
            data = None if x is None else x[x_off[g]:x_off[g + 1]]
            out[lo:hi] = naive.knn_distances(q[lo:hi], data, k=k)
    return out


@pytest.mark.parametrize("d", [GRAM_MIN_DIM, 40])
def test_self_search_with_duplicates_and_uneven_groups_matches_naive(rng, d):
    sizes = [9, 33, 0, 21, 6]
    off = np.r_[0, np.cumsum(sizes)]
    x = rng.normal(size=(off[-1], d)) * 3.0 - 7.0
    x[12] = x[11]
    got = _gram(x, off, x, off, 5, True)
    np.testing.assert_allclose(got, _naive_groups(x, off, k=5), rtol=RTOL, atol=0)
    assert got[11, 0] == 0.0 and got[12, 0] == 0.0


def test_cross_search_matches_naive(rng):
    q_off, x_off = np.array([0, 10, 10, 34]), np.array([0, 6, 9, 40])
    q = rng.normal(size=(q_off[-1], 16))
    x = rng.normal(size=(x_off[-1], 16)) + 0.5
    got = _gram(q, q_off, x, x_off, 3, False)
    np.testing.assert_allclose(got, _naive_groups(q, q_off, x, x_off, k=3), rtol=RTOL, atol=0)


def test_cluster_far_from_the_group_mean_falls_back_and_stays_exact(rng):
    # one far outlier drags the mean away: centred norms ~ 1e3, float32 round-off
    # ~ 1e-2 in squared distance, larger than the gaps between neighbours
    d = 16
    x = rng.normal(size=(50, d)) * 0.02
    x[0] = 4e4
    off = np.array([0, 50])
    np.testing.assert_allclose(_gram(x, off, x, off, 4, True), _naive_groups(x, off, k=4),
                               rtol=RTOL, atol=0)


def test_integer_grid_ties_give_the_same_distances_as_the_direct_kernel(rng):
    d = 12
    x = rng.integers(0, 3, size=(300, d)).astype(np.float64)
    off = np.array([0, 100, 220, 300])
    got = _gram(x, off, x, off, 6, True)
    want = np.empty_like(got)
    _grouped_knn_sq(x, np.repeat(np.arange(3), np.diff(off)), x, off, 6, True, want)
    np.testing.assert_array_equal(got, np.sqrt(want))
