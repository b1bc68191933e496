"""The tiled exact k-NN of the CUDA backend, one test body for numpy and cupy.

With numpy the tile selection is the sort-based reference ``select_tile_xp``; with
cupy (marked ``gpu``, skipped without a device) it is the fused kernel of
kernels/knn_select.cu. Both are checked against tests/naive.py.
"""

import numpy as np
import pytest

import naive
from hpx_uncert.backends.cuda import tiling


def _numpy_backend():
    return np, lambda kc: (lambda *a: tiling.select_tile_xp(np, *a))


def _cupy_backend():
    from hpx_uncert.backends.cuda import is_available

    if not is_available():
        pytest.skip("needs CuPy and a CUDA device")
    import cupy

    from hpx_uncert.backends.cuda.knn import kernel_selector

    return cupy, kernel_selector


@pytest.fixture(params=[
    pytest.param("numpy"),
    pytest.param("cupy", marks=pytest.mark.gpu),
])
def backend(request):
    return _numpy_backend() if request.param == "numpy" else _cupy_backend()


def _search(backend, query, data, k, *, labels=None, extra=0, budget=1 << 24, max_cols=64):
    xp, make_selector = backend
    q_lab, d_lab = labels if labels is not None else (None, None)
    return tiling.exact_knn_tiled(xp, query, data, k, query_labels=q_lab, data_labels=d_lab,
                                  extra=extra, budget_bytes=budget,
                                  make_selector=make_selector, max_cols=max_cols)


def test_self_search_far_from_origin_spans_tiles(backend, rng):
    # an offset of 1e4 would wreck a float32 GEMM without centring; duplicates stay
    # neighbours at distance 0 (exclusion by id)
    x = rng.normal(size=(300, 9)) + 1e4
    x[5] = x[17]
    ids = np.arange(len(x))
    dist, idx, passes, plan = _search(backend, x, x, 4, labels=(ids, ids), extra=1)
    want = naive.knn_distances(x, k=4)
    np.testing.assert_allclose(dist, want, rtol=1e-12, atol=1e-9)
    assert plan.n_tiles(300, 300)[1] > 1
    assert dist[5, 0] == 0.0 and idx[5, 0] == 17 and idx[17, 0] == 5
    # indices point at points at the reported distances
    np.testing.assert_allclose(np.linalg.norm(x[idx] - x[:, None, :], axis=2), dist,
                               rtol=1e-12, atol=1e-9)


def test_cross_search_with_measurement_labels(backend, rng):
    q = rng.normal(size=(40, 5))
    x = rng.normal(size=(130, 5))
    q_lab = rng.integers(0, 6, size=40)
    x_lab = rng.integers(0, 6, size=130)
    extra = int(np.bincount(x_lab).max())
    dist, idx, _, _ = _search(backend, q, x, 3, labels=(q_lab, x_lab), extra=extra,
                              max_cols=32)
    want = naive.knn_distances(q, x, k=3, query_labels=q_lab, data_labels=x_lab)
    np.testing.assert_allclose(dist, want, rtol=1e-12)
    assert not np.any(x_lab[idx] == q_lab[:, None])


def test_near_ties_below_float32_resolution_are_resolved_exactly(backend, rng):
    # 200 points whose distances to the query differ by 1e-10 relative: float32
    # cannot order them, so the certificate must fail and the search widen until
    # the float64 re-measure decides
    n = 200
    directions = rng.normal(size=(n, 6))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = 1.0 + 1e-10 * rng.permutation(n)
    x = directions * radii[:, None]
    q = np.zeros((1, 6))
    dist, idx, passes, _ = _search(backend, q, x, 3, max_cols=48)
    assert passes > 1
    np.testing.assert_array_equal(idx[0], np.argsort(radii)[:3])
    np.testing.assert_allclose(dist[0], np.sort(radii)[:3], rtol=1e-15)


def test_float64_rows_gathered_from_host_when_they_do_not_fit(backend, rng):
    x = rng.normal(size=(120, 7))
    ids = np.arange(120)
    small = tiling.prepare(np, x, x, query_labels=None, data_labels=None,
                           budget_bytes=x.nbytes)  # half the budget < x.nbytes
    assert small.data64 is None
    dist, _, _, _ = _search(backend, x, x, 2, labels=(ids, ids), extra=1, budget=x.nbytes)
    np.testing.assert_allclose(dist, naive.knn_distances(x, k=2), rtol=1e-12)


def test_too_few_points_of_other_labels_is_an_error(backend, rng):
    x = rng.normal(size=(10, 2))
    labels = np.array([0] * 8 + [1] * 2)
    with pytest.raises(ValueError, match="query point 0 has only 2 eligible neighbour"):
        _search(backend, x, x, 3, labels=(labels, labels), extra=8)


def test_tile_merges_equal_one_selection_over_all_columns(rng):
    # merging tile after tile must give the top-kc of the whole row under the
    # (distance, index) order
    gram_q = rng.normal(size=(7, 3)).astype(np.float32)
    data = rng.normal(size=(50, 3)).astype(np.float32)
    data[10] = data[3]  # an exact tie: the smaller index wins
    q_sq = np.einsum("ij,ij->i", gram_q, gram_q)
    x_sq = np.einsum("ij,ij->i", data, data)
    kc = 6
    best_d = np.full((7, kc), np.inf, np.float32)
    best_i = np.full((7, kc), -1, np.int64)
    for c0 in range(0, 50, 8):
        tile = data[c0:c0 + 8]
        tiling.select_tile_xp(np, gram_q @ tile.T, q_sq, x_sq[c0:c0 + 8], None, None, c0,
                              best_d, best_i)
    full = np.maximum(q_sq[:, None] + x_sq[None, :] - 2 * (gram_q @ data.T), 0)
    want = np.lexsort((np.broadcast_to(np.arange(50), full.shape), full), axis=1)[:, :kc]
    np.testing.assert_array_equal(best_i, want)
    np.testing.assert_array_equal(best_d, np.take_along_axis(full, want, axis=1))


def test_plan_tiles_respects_the_budget():
    for n, m, d, kc, budget in [(10**6, 10**6, 81, 13, 100 << 30), (1000, 500, 3, 8, 10**5),
                                (50, 10**7, 81, 64, 1 << 20)]:
        plan = tiling.plan_tiles(n, m, d, kc, budget)
        assert 1 <= plan.rows <= n and 1 <= plan.cols <= m
        per_row = 4 * plan.cols + 12 * d + 12 * kc + 8 * kc * d
        assert plan.rows * per_row <= budget
        assert plan.rows * plan.cols * 4 <= 1 << 30
    # a budget too small for one row still makes progress, one row at a time
    assert tiling.plan_tiles(10, 10**6, 81, 64, 1000).rows == 1


def test_error_bound_scales_with_norms_and_roundoff():
    b32 = tiling.error_bound(np.array([1.0, 4.0]), 2.0, 10)
    np.testing.assert_allclose(b32, 30 * 2.0**-24 * np.array([3.0, 6.0]))
    np.testing.assert_allclose(tiling.error_bound(np.array([1.0]), 2.0, 10,
                                                  tiling.UNIT_ROUNDOFF_TF32), b32[:1] * 2**13)


@pytest.mark.parametrize("d", [1, 9, 81])
def test_float32_route_stays_within_the_error_bound(rng, d):
    # two far-apart clusters: after centring the norms are large and the distances
    # within a cluster small, the worst case for |q|^2 + |x|^2 - 2 q.x in float32
    x = np.concatenate([rng.normal(size=(150, d)) + 1e3, rng.normal(size=(150, d)) - 1e3])
    prob = tiling.prepare(np, x, x, query_labels=None, data_labels=None,
                          budget_bytes=1 << 24)
    q32 = np.ascontiguousarray(x - prob.center, dtype=np.float32)
    q_sq = np.einsum("ij,ij->i", q32, q32)
    approx = np.maximum(q_sq[:, None] + prob.data_sq[None, :] - 2.0 * (q32 @ prob.data32.T), 0)
    exact = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    centred_sq = np.einsum("ij,ij->i", x - prob.center, x - prob.center)
    bound = tiling.error_bound(centred_sq, prob.max_data_sq, d)
    ratio = np.abs(approx.astype(np.float64) - exact) / bound[:, None]
    assert ratio.max() <= 1.0
    # and the float32 route really is inexact here, so the bound is doing work
    assert np.abs(approx - exact).max() > 0
