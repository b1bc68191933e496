"""numba.cuda kernels of the CUDA backend under the CUDA simulator.

Run in their own process with NUMBA_ENABLE_CUDASIM=1 set before numba is
imported (``make test-cudasim``); skipped in any other process. Threads per block
are patched small so tiny inputs span several blocks.
"""

import math
import os

import numpy as np
import pytest
from scipy.special import digamma, gammaln

import naive

pytestmark = pytest.mark.cudasim

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("needs NUMBA_ENABLE_CUDASIM=1 before numba is imported (make test-cudasim)",
                allow_module_level=True)

from numba import cuda  # noqa: E402

from hpx_uncert.backends.cuda import config  # noqa: E402
from hpx_uncert.backends.cuda import groups  # noqa: E402


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(config, "THREADS_PER_BLOCK", 4)


def _grouped(rng, sizes, d, *, duplicate=False):
    x = rng.normal(size=(sum(sizes), d))
    if duplicate:
        x[1] = x[0]
    return x, np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def test_grouped_self_search_matches_naive(rng):
    x, off = _grouped(rng, [5, 0, 9, 4, 7], 3, duplicate=True)
    got = groups.grouped_knn_distances_cuda(x, off, k=3)
    for g in range(len(off) - 1):
        lo, hi = off[g], off[g + 1]
        if hi > lo:
            np.testing.assert_allclose(got[lo:hi], naive.knn_distances(x[lo:hi], k=3),
                                       rtol=1e-13, atol=1e-15)
    # the duplicate pair stays neighbours at distance 0 (exclusion by id, not by value)
    assert got[0, 0] == 0.0 and got[1, 0] == 0.0


def test_grouped_cross_search_matches_naive(rng):
    q, q_off = _grouped(rng, [3, 4, 2], 2)
    x, x_off = _grouped(rng, [6, 2, 5], 2)
    got = groups.grouped_knn_distances_cuda(q, q_off, x, x_off, k=2)
    for g in range(3):
        want = naive.knn_distances(q[q_off[g]:q_off[g + 1]], x[x_off[g]:x_off[g + 1]], k=2)
        np.testing.assert_allclose(got[q_off[g]:q_off[g + 1]], want, rtol=1e-13)


def test_capacity_above_k_gives_same_result(rng, monkeypatch):
    # k = 5 runs with an 8-slot list; the unused slots must not leak into the output
    x, off = _grouped(rng, [8, 7], 4)
    got = groups.grouped_knn_distances_cuda(x, off, k=5)
    np.testing.assert_allclose(got[:8], naive.knn_distances(x[:8], k=5), rtol=1e-13)
    np.testing.assert_allclose(got[8:], naive.knn_distances(x[8:], k=5), rtol=1e-13)


def test_log_radius_sums_and_zero_counts(rng):
    x, off = _grouped(rng, [5, 6, 4], 2, duplicate=True)
    dist = groups.grouped_knn_distances_cuda(x, off, k=2)
    sums, zeros = groups.grouped_log_radius_sums(dist, off, k_column=1)
    assert zeros.tolist() == [2, 0, 0]
    assert sums[0] == -np.inf
    for g in (1, 2):
        want = math.fsum(math.log(r) for r in dist[off[g]:off[g + 1], 0])
        assert sums[g] == pytest.approx(want, rel=1e-14)


def test_kl_entropy_on_device_matches_host_formula(rng):
    x, off = _grouped(rng, [9, 12, 7], 3)
    k, d = 2, 3
    got = groups.grouped_kl_entropy(x, off, k=k)
    log_vd = 0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1)
    for g in range(3):
        block = x[off[g]:off[g + 1]]
        eps = naive.knn_distances(block, k=k)[:, k - 1]
        n = len(block)
        want = digamma(n) - digamma(k) + log_vd + d * np.log(eps).sum() / n
        assert got[g] == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_device_digamma_matches_scipy():
    digamma_dev, log_vol = groups._device_functions()

    @cuda.jit
    def evaluate(xs, out, vol):
        i = cuda.grid(1)
        if i < xs.shape[0]:
            out[i] = digamma_dev(xs[i])
            vol[i] = log_vol(xs[i])

    xs = np.array([0.3, 1.0, 2.0, 5.5, 7.0, 81.0, 256.0, 1e6])
    out = np.zeros_like(xs)
    vol = np.zeros_like(xs)
    evaluate[2, 4](xs, out, vol)
    np.testing.assert_allclose(out, digamma(xs), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(vol, 0.5 * xs * np.log(np.pi) - gammaln(0.5 * xs + 1),
                               rtol=1e-12)


def test_duplicates_make_entropy_an_error(rng):
    x, off = _grouped(rng, [6, 6], 2)
    x[7] = x[6]
    with pytest.raises(ValueError, match="group 1 has 2 point.*distance 0"):
        groups.grouped_kl_entropy(x, off, k=1)


def test_k_above_list_capacity_is_refused(rng, monkeypatch):
    monkeypatch.setattr(config, "GROUP_MAX_K", 4)
    x, off = _grouped(rng, [8, 8], 2)
    with pytest.raises(ValueError, match="at most 4 neighbours per point; got k=5"):
        groups.grouped_knn_distances_cuda(x, off, k=5)


def test_cpu_rules_apply(rng):
    x, off = _grouped(rng, [3, 5], 2)
    with pytest.raises(ValueError, match="group 0 of query has 3 point"):
        groups.grouped_knn_distances_cuda(x, off, k=3)


def test_many_groups_match_the_cpu_grouped_search(rng):
    # the CPU twin (numba) is the reference the GPU kernel must mirror
    from hpx_uncert.neighbors import grouped_knn_distances

    sizes = rng.integers(5, 14, size=30)
    x, off = _grouped(rng, list(sizes), 5)
    got = groups.grouped_knn_distances_cuda(x, off, k=4)
    np.testing.assert_allclose(got, grouped_knn_distances(x, off, k=4), rtol=1e-13)
