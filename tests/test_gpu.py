"""CUDA backend against the CPU reference on the same inputs (needs a GPU; skipped here).

Run on a GPU machine with ``pytest -m gpu`` (``tools/gpu_check.sh`` does).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

import naive
from hpx_uncert.backends import cuda as cuda_backend

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not cuda_backend.is_available(),
                       reason=f"no CUDA device: {cuda_backend.unavailable_reason()}"),
]


def _cpu_knn(query, data=None, *, k, query_labels=None, data_labels=None):
    """Brute-force float64 reference on the host (numpy only: the GPU machine may lack
    faiss and scipy): float64 GEMM proposes k + 16 candidates, exact differences decide."""
    q = np.asarray(query, dtype=np.float64)
    x = q if data is None else np.asarray(data, dtype=np.float64)
    if data is None:
        query_labels = data_labels = np.arange(len(q)) if query_labels is None else query_labels
    kc = min(len(x), k + 16)
    x_sq = np.einsum("ij,ij->i", x, x)
    dist = np.empty((len(q), k))
    idx = np.empty((len(q), k), dtype=np.int64)
    for lo in range(0, len(q), 512):
        qb = q[lo:lo + 512]
        d2 = np.einsum("ij,ij->i", qb, qb)[:, None] + x_sq[None, :] - 2 * qb @ x.T
        if query_labels is not None:
            d2[np.asarray(data_labels)[None, :] == np.asarray(query_labels)[lo:lo + 512, None]] = np.inf
        cand = np.argpartition(d2, kc - 1, axis=1)[:, :kc]
        exact = ((x[cand] - qb[:, None, :]) ** 2).sum(-1)
        exact[np.isinf(np.take_along_axis(d2, cand, axis=1))] = np.inf
        order = np.argsort(exact, axis=1, kind="stable")[:, :k]
        dist[lo:lo + 512] = np.sqrt(np.take_along_axis(exact, order, axis=1))
        idx[lo:lo + 512] = np.take_along_axis(cand, order, axis=1)
    return SimpleNamespace(distances=dist, indices=idx)


def test_reference_agrees_with_naive(rng):
    x = rng.normal(size=(60, 5))
    np.testing.assert_allclose(_cpu_knn(x, k=3).distances, naive.knn_distances(x, k=3),
                               rtol=1e-13)


def _assert_same_neighbours(gpu, cpu, rtol=1e-12):
    np.testing.assert_allclose(gpu.distances, cpu.distances, rtol=rtol, atol=1e-12)
    # indices agree wherever the distance is not tied with the next one
    untied = np.ones(cpu.distances.shape, bool)
    gaps = np.diff(cpu.distances, axis=1) > 1e-9 * (1 + cpu.distances[:, 1:])
    untied[:, :-1] &= gaps
    untied[:, 1:] &= gaps
    assert np.array_equal(gpu.indices[untied], cpu.indices[untied])


@pytest.mark.parametrize("k", [1, 5, 40, 70])
def test_self_search_parity_d81(rng, k):
    x = rng.normal(size=(6000, 81)).astype(np.float32) * 3 + 50
    x[10] = x[20]
    gpu = cuda_backend.knn_distances_cuda(x, k=k, device="cuda:0")
    _assert_same_neighbours(gpu, _cpu_knn(x, k=k))
    assert gpu.distances[10, 0] == 0.0 and gpu.method.startswith("cuda-")


def test_cross_search_with_labels_parity(rng):
    q = rng.normal(size=(3000, 16))
    x = rng.normal(size=(9000, 16))
    q_lab = rng.integers(0, 50, size=3000)
    x_lab = rng.integers(0, 50, size=9000)
    gpu = cuda_backend.knn_distances_cuda(q, x, k=7, query_labels=q_lab, data_labels=x_lab)
    cpu = _cpu_knn(q, x, k=7, query_labels=q_lab, data_labels=x_lab)
    _assert_same_neighbours(gpu, cpu)
    assert not np.any(x_lab[gpu.indices] == q_lab[:, None])


def test_small_budget_forces_many_tiles(rng):
    x = rng.normal(size=(5000, 81))
    gpu = cuda_backend.knn_distances_cuda(x, k=5, memory_budget=8 << 20)
    assert "tiles" in gpu.method
    _assert_same_neighbours(gpu, _cpu_knn(x, k=5))


def test_recall_near_ties_below_float32_resolution(rng):
    n = 20000
    directions = rng.normal(size=(n, 32))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = 1.0 + 1e-10 * rng.permutation(n)
    x = directions * radii[:, None]
    q = np.zeros((3, 32))
    gpu = cuda_backend.knn_distances_cuda(q, x, k=5)
    for row in range(3):
        np.testing.assert_array_equal(gpu.indices[row], np.argsort(radii)[:5])


def test_fused_kernel_agrees_with_sort_reference(rng):
    import cupy

    from hpx_uncert.backends.cuda import tiling
    from hpx_uncert.backends.cuda.knn import kernel_selector

    q = cupy.asarray(rng.normal(size=(300, 20)).astype(np.float32))
    x = cupy.asarray(rng.normal(size=(5000, 20)).astype(np.float32))
    q_sq = cupy.einsum("ij,ij->i", q, q)
    x_sq = cupy.einsum("ij,ij->i", x, x)
    for kc in (3, 8, 16, 33, 64):
        results = []
        for select in (kernel_selector(kc), lambda *a: tiling.select_tile_xp(cupy, *a)):
            best_d = cupy.full((300, kc), cupy.inf, dtype=cupy.float32)
            best_i = cupy.full((300, kc), -1, dtype=cupy.int64)
            for c0 in range(0, 5000, 1024):
                tile = x[c0:c0 + 1024]
                select(q @ tile.T, q_sq, x_sq[c0:c0 + 1024], None, None, c0, best_d, best_i)
            results.append((best_d.get(), best_i.get()))
        (kd, ki), (rd, ri) = results
        np.testing.assert_allclose(kd, rd, rtol=1e-5, atol=1e-5)
        assert (ki == ri).mean() > 0.99  # differences only from float32 contraction near ties


def test_grouped_kernel_parity(rng):
    from hpx_uncert.neighbors import grouped_knn_distances

    sizes = rng.integers(20, 80, size=300)
    off = np.concatenate(([0], np.cumsum(sizes)))
    x = rng.normal(size=(off[-1], 81))
    gpu = cuda_backend.grouped_knn_distances_cuda(x, off, k=5)
    np.testing.assert_allclose(gpu, grouped_knn_distances(x, off, k=5), rtol=1e-12)
    y = rng.normal(size=(off[-1], 81))
    gpu = cuda_backend.grouped_knn_distances_cuda(x, off, y, off, k=3)
    np.testing.assert_allclose(gpu, grouped_knn_distances(x, off, y, off, k=3), rtol=1e-12)


def test_grouped_entropy_matches_host_formula(rng):
    def digamma_int(n):  # psi(n) = -gamma + sum_{j<n} 1/j
        return -0.5772156649015329 + math.fsum(1.0 / j for j in range(1, n))

    off = np.arange(0, 64 * 50 + 1, 64)
    x = rng.normal(size=(off[-1], 8))
    got = cuda_backend.grouped_kl_entropy(x, off, k=3)
    log_vd = 4 * math.log(math.pi) - math.lgamma(5)
    for g in (0, 17, 49):
        block = x[off[g]:off[g + 1]]
        eps = naive.knn_distances(block, k=3)[:, 2]
        want = digamma_int(64) - digamma_int(3) + log_vd + 8 * np.log(eps).mean()
        assert got[g] == pytest.approx(want, rel=1e-12)


def _knn_block(task):
    from hpx_uncert.backends.cuda import knn_distances_cuda

    query, data, k = task
    res = knn_distances_cuda(query, data, k=k, device="cuda:0")
    return res.distances, res.indices


def test_multi_gpu_blocks_merge_to_the_single_gpu_result(rng):
    from hpx_uncert.backends.multi_gpu import run_on_gpus

    q = rng.normal(size=(2000, 24))
    x = rng.normal(size=(8000, 24))
    tasks = [(q[i:i + 500], x, 4) for i in range(0, 2000, 500)]
    parts = run_on_gpus(_knn_block, tasks)
    single = cuda_backend.knn_distances_cuda(q, x, k=4)
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), single.distances)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), single.indices)
