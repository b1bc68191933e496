"""Exact k-NN search and the grouped kernel against the slow references in naive.py."""

import numpy as np
import pytest

import naive
from hpx_uncert.neighbors import grouped_knn_distances, knn_distances

RTOL = 1e-9
ROUTES = ["faiss", "kdtree", "auto"]


def _check_indices(query, data, result):
    """The reported indices must point at points at the reported distances."""
    data = query if data is None else data
    gathered = np.linalg.norm(data[result.indices] - query[:, None, :], axis=2)
    np.testing.assert_allclose(gathered, result.distances, rtol=RTOL, atol=0)


@pytest.fixture(scope="module")
def cases():
    """Points, their naive self- and cross-search distances, per dimension (computed once)."""
    rng = np.random.default_rng(7)
    out = {}
    for d, n in [(1, 150), (4, 120), (81, 70)]:
        x = rng.normal(size=(n, d))
        y = rng.normal(size=(n // 2 + 3, d)) * 1.5
        out[d] = (x, y, naive.knn_distances(x, k=6), naive.knn_distances(x, y, k=6))
    return out


@pytest.mark.parametrize("method", ROUTES)
@pytest.mark.parametrize("d", [1, 4, 81])
def test_every_route_matches_naive(cases, method, d):
    x, y, self_ref, cross_ref = cases[d]
    r = knn_distances(x, k=6, method=method)
    np.testing.assert_allclose(r.distances, self_ref, rtol=RTOL, atol=0)
    assert r.distances.dtype == np.float64 and r.indices.dtype == np.int64
    assert not np.any(r.indices == np.arange(len(x))[:, None])
    _check_indices(x, None, r)
    c = knn_distances(x, y, k=6, method=method)
    np.testing.assert_allclose(c.distances, cross_ref, rtol=RTOL, atol=0)
    _check_indices(x, y, c)


def test_auto_picks_kdtree_at_small_d_and_faiss_at_large_d(cases):
    assert knn_distances(cases[4][0], k=2).method == "kdtree"
    assert knn_distances(cases[81][0], k=2).method.startswith("faiss-flat")


@pytest.mark.parametrize("self_search", [True, False])
def test_tiny_memory_budget_forces_blocks_and_gives_identical_results(cases, self_search):
    x, y, _, _ = cases[81]
    data = None if self_search else y
    whole = knn_distances(x, data, k=6, method="faiss")
    # 81 float32 coordinates = 324 bytes per row: a few rows per block
    blocked = knn_distances(x, data, k=6, method="faiss", memory_budget=2000)
    assert whole.method == "faiss-flat"
    n_blocks = int(blocked.method.split("[")[1].split()[0])
    assert n_blocks >= 10
    np.testing.assert_array_equal(blocked.distances, whole.distances)
    np.testing.assert_array_equal(blocked.indices, whole.indices)


def test_memory_budget_from_environment(cases, monkeypatch):
    x = cases[81][0]
    monkeypatch.setenv("HPX_UNCERT_MEMORY_BUDGET", "3000")
    assert "blocks]" in knn_distances(x, k=2, method="faiss").method
    monkeypatch.setenv("HPX_UNCERT_MEMORY_BUDGET", "3KiB")
    assert "blocks]" in knn_distances(x, k=2, method="faiss").method
    monkeypatch.setenv("HPX_UNCERT_MEMORY_BUDGET", "1GiB")
    assert "blocks]" not in knn_distances(x, k=2, method="faiss").method
    monkeypatch.setenv("HPX_UNCERT_MEMORY_BUDGET", "lots")
    with pytest.raises(ValueError, match="HPX_UNCERT_MEMORY_BUDGET must be a number of bytes"):
        knn_distances(x, k=2, method="faiss")


@pytest.mark.parametrize("method", ["faiss", "kdtree"])
def test_duplicates_stay_neighbours_at_zero_and_self_is_excluded(rng, method):
    base = rng.normal(size=(40, 5))
    x = np.concatenate([base, base[:10], base[:10]])  # rows 0..9 appear three times
    r = knn_distances(x, k=3, method=method, memory_budget=4000)
    np.testing.assert_allclose(r.distances, naive.knn_distances(x, k=3), rtol=RTOL, atol=0)
    tripled = np.r_[0:10, 40:60]
    np.testing.assert_array_equal(r.distances[tripled, :2], 0.0)
    assert r.distances[tripled, 2].min() > 0
    assert not np.any(r.indices == np.arange(len(x))[:, None])


@pytest.mark.parametrize("method", ["faiss", "kdtree"])
def test_label_exclusion_with_tight_clusters(rng, method):
    # 6 labels of 25 points each, every label a tight cluster: all of a point's
    # nearest points share its label and must be skipped
    centers = rng.normal(size=(6, 16)) * 10
    labels = np.repeat(np.arange(6), 25)
    x = centers[labels] + 0.01 * rng.normal(size=(150, 16))
    r = knn_distances(x, k=4, query_labels=labels, method=method)
    np.testing.assert_allclose(r.distances, naive.knn_distances(x, k=4, query_labels=labels),
                               rtol=RTOL, atol=0)
    assert not np.any(labels[r.indices] == labels[:, None])
    # cross search with measurement ids on both sides
    y = centers[labels[::3]] + 0.01 * rng.normal(size=(50, 16))
    c = knn_distances(x, y, k=4, query_labels=labels, data_labels=labels[::3], method=method)
    np.testing.assert_allclose(
        c.distances, naive.knn_distances(x, y, k=4, query_labels=labels,
                                         data_labels=labels[::3]), rtol=RTOL, atol=0)


@pytest.mark.parametrize("method", ["faiss", "kdtree"])
def test_ties_and_large_offsets_stay_exact(method):
    # an integer lattice far from the origin: many exactly equal distances and
    # float32 round-off far above the neighbour spacing before centring
    g = np.arange(6, dtype=np.float64)
    x = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3) + 1e5
    r = knn_distances(x, k=7, method=method, memory_budget=3000)
    np.testing.assert_allclose(r.distances, naive.knn_distances(x, k=7), rtol=RTOL, atol=0)


@pytest.mark.parametrize("d", [3, 20])
def test_points_far_from_the_origin_stay_exact(rng, d):
    # float32 spacing at 1e5 is ~0.008, comparable to the neighbour distances: a
    # selection in float32 of the raw coordinates would pick wrong neighbours
    x = 1e5 + 0.05 * rng.normal(size=(200, d))
    r = knn_distances(x, k=5, method="faiss")
    np.testing.assert_allclose(r.distances, naive.knn_distances(x, k=5), rtol=RTOL, atol=0)


def test_translation_and_float32_input_invariance(cases):
    x, y, self_ref, _ = cases[4]
    shifted = knn_distances(x + 123.0, k=6, method="faiss").distances
    np.testing.assert_allclose(shifted, self_ref, rtol=1e-9)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(knn_distances(x32, k=6, method="faiss").distances,
                               naive.knn_distances(x32.astype(np.float64), k=6), rtol=RTOL)


def test_too_few_eligible_neighbours_is_a_clear_error(rng):
    x = rng.normal(size=(30, 3))
    labels = np.r_[np.zeros(25, int), np.ones(5, int)]
    with pytest.raises(ValueError, match=r"query point 0 has only 5 eligible neighbour\(s\)"):
        knn_distances(x, k=6, query_labels=labels, method="faiss")
    with pytest.raises(ValueError, match="has only 5 eligible"):
        knn_distances(x, k=6, query_labels=labels, method="kdtree")


@pytest.mark.parametrize("kwargs, message", [
    (dict(k=30), r"'k' parameter must be smaller than the number of samples in query \(30\)"),
    (dict(k=0), r"'k' parameter must be an int in the range \[1, inf\)"),
    (dict(k=2, method="ball"), "method must be one of 'auto', 'faiss', 'kdtree'"),
    (dict(k=2, device="tpu"), "device must be 'auto', 'cpu', 'cuda'"),
    (dict(k=2, data_labels=np.arange(30)), "data_labels was given for a self-search"),
    (dict(k=2, query_labels=np.arange(29)), r"query_labels must hold one label per sample "
                                            r"of query, shape \(30,\); got shape \(29,\)"),
    (dict(k=2, memory_budget=0), "memory_budget must be a positive number of bytes"),
])
def test_self_search_errors(rng, kwargs, message):
    with pytest.raises(ValueError, match=message):
        knn_distances(rng.normal(size=(30, 3)), **kwargs)


def test_auto_device_without_cuda_runs_on_cpu_and_explicit_cuda_is_a_clear_error(cases):
    from hpx_uncert.backends import BackendUnavailableError, available_backends

    if available_backends()["cuda"] is None:
        pytest.skip("CUDA is usable here; the GPU route is tested with the CUDA backend")
    x, _, self_ref, _ = cases[4]
    np.testing.assert_allclose(knn_distances(x, k=6, device="auto").distances, self_ref,
                               rtol=RTOL, atol=0)
    with pytest.raises(BackendUnavailableError, match="device='cuda' was requested but CUDA "
                                                      "is not usable here"):
        knn_distances(x, k=6, device="cuda")


def test_cross_search_errors(rng):
    x = rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match="must have the same number of features; got d=3 and d=4"):
        knn_distances(x, rng.normal(size=(10, 4)), k=2)
    with pytest.raises(ValueError, match=r"must not exceed the number of samples in data \(10\)"):
        knn_distances(x, rng.normal(size=(10, 3)), k=11)
    with pytest.raises(ValueError, match="needs both query_labels and data_labels or neither"):
        knn_distances(x, rng.normal(size=(10, 3)), k=2, query_labels=np.zeros(30))
    bad = x.copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match="query contains 1 NaN or infinite value"):
        knn_distances(bad, k=2)
    with pytest.raises(ValueError, match="data contains 1 NaN or infinite value"):
        knn_distances(x, bad, k=2)


# --- grouped kernel -------------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 4, 81])
def test_grouped_self_search_matches_naive_per_group(rng, d):
    sizes = [7, 40, 0, 13, 25]  # uneven, with an empty group
    offsets = np.r_[0, np.cumsum(sizes)]
    x = rng.normal(size=(offsets[-1], d))
    x[9] = x[8]  # a duplicate inside group 1 stays a neighbour at distance 0
    got = grouped_knn_distances(x, offsets, k=5)
    np.testing.assert_allclose(got, naive.grouped_knn_distances(x, offsets, k=5),
                               rtol=RTOL, atol=0)
    assert got[8, 0] == 0.0 and got[9, 0] == 0.0


@pytest.mark.parametrize("d", [1, 81])
def test_grouped_cross_search_matches_naive_per_group(rng, d):
    q_off = np.array([0, 10, 10, 30, 34])
    x_off = np.array([0, 6, 9, 29, 40])
    q = rng.normal(size=(q_off[-1], d))
    y = rng.normal(size=(x_off[-1], d)) + 0.5
    got = grouped_knn_distances(q, q_off, y, x_off, k=3)
    np.testing.assert_allclose(got, naive.grouped_knn_distances(q, q_off, y, x_off, k=3),
                               rtol=RTOL, atol=0)


def test_grouped_agrees_with_labelled_search(rng):
    # within-group self-search = a search where only the same label is allowed;
    # checked through the independent route: one knn_distances call per group
    offsets = np.array([0, 50, 120, 200])
    x = rng.normal(size=(200, 12))
    got = grouped_knn_distances(x, offsets, k=4)
    per_group = np.concatenate([knn_distances(x[a:b], k=4, method="faiss").distances
                                for a, b in zip(offsets[:-1], offsets[1:])])
    np.testing.assert_allclose(got, per_group, rtol=RTOL, atol=0)


def test_grouped_errors(rng):
    x = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match=r"group 1 of query has 3 point\(s\); a search within "
                                         r"groups with k=3 needs at least 4"):
        grouped_knn_distances(x, [0, 17, 20], k=3)
    with pytest.raises(ValueError, match="query_offsets must start at 0, never decrease and "
                                         r"end at the number of samples in query \(20\)"):
        grouped_knn_distances(x, [0, 10, 19], k=1)
    with pytest.raises(ValueError, match="query_offsets must be a 1-D integer array"):
        grouped_knn_distances(x, [0.0, 20.0], k=1)
    with pytest.raises(ValueError, match="describe the same number of groups; got 2 and 1"):
        grouped_knn_distances(x, [0, 10, 20], x, [0, 20], k=1)
    with pytest.raises(ValueError, match=r"group 1 of data has 2 point\(s\) but k=3"):
        grouped_knn_distances(x, [0, 10, 20], x, [0, 18, 20], k=3)
    with pytest.raises(ValueError, match="data_offsets was given without data"):
        grouped_knn_distances(x, [0, 20], data_offsets=[0, 20], k=1)
    with pytest.raises(ValueError, match="same number of features"):
        grouped_knn_distances(x, [0, 20], rng.normal(size=(20, 3)), [0, 20], k=1)
    x[3, 0] = np.inf
    with pytest.raises(ValueError, match="query contains 1 NaN or infinite"):
        grouped_knn_distances(x, [0, 20], k=1)
