"""Batched k-NN within many small groups, and per-group log-radius reductions, on GPU.

The GPU twin of ``hpx_uncert.neighbors.grouped_knn_distances`` for the conditional
estimators (thousands of measurements, each with a few hundred posterior
samples): one launch searches every group, one thread per query point, each
thread scanning its own group's data points and keeping a sorted list of its k
nearest squared distances, accumulated in float64 in feature order. A second
launch reduces the k-th radii per group into ``sum log eps_k`` and the
Kozachenko-Leonenko entropy ``psi(N) - psi(k) + log V_d + (d/N) sum log eps_k``,
with digamma and the log unit-ball volume evaluated on the device.

Written with ``numba.cuda`` (the ``numba-cuda`` package), so the same kernels run
under the CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) in the tests. Threads per
block come from :mod:`.config` at launch time.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import cuda, float64

from . import config
from ...neighbors.args import group_args

#: list capacities compiled for the group kernel; the smallest one >= k is used
GROUP_CAPACITIES = (4, 8, 16, 32, 64)


def grouped_knn_distances_cuda(query, query_offsets, data=None, data_offsets=None, *, k):
    """Exact Euclidean k-NN distances within each of many small groups, on a GPU.

    Parameters
    ----------
    query : array-like of shape (n_total, d)
        All groups' points, concatenated group after group.
    query_offsets : array-like of int, shape (G + 1,)
        Group ``g`` is ``query[query_offsets[g]:query_offsets[g + 1]]``.
    data : array-like of shape (m_total, d), optional
        Points searched, grouped by ``data_offsets``; ``None`` searches each query
        group within itself, excluding each point by its index.
    data_offsets : array-like of int, shape (G + 1,), optional
        Required with ``data``; the same number of groups.
    k : int
        Neighbours per point, at most ``config.GROUP_MAX_K``.

    Returns
    -------
    ndarray of shape (n_total, k), float64
        Ascending distances (coordinate units), row ``i`` for ``query[i]``.

    Raises
    ------
    ValueError
        Invalid arguments (the CPU version's rules), or ``k`` above the kernel's list
        capacity.
    """
    args = group_args(query, query_offsets, data, data_offsets, k)
    if args.k > min(config.GROUP_MAX_K, GROUP_CAPACITIES[-1]):
        raise ValueError(f"the grouped GPU kernel keeps at most "
                         f"{min(config.GROUP_MAX_K, GROUP_CAPACITIES[-1])} neighbours per "
                         f"point; got k={args.k}. Use hpx_uncert.neighbors."
                         f"grouped_knn_distances (CPU) for larger k.")
    require_numba_cuda()
    n = args.query.shape[0]
    out = np.empty((n, args.k), dtype=np.float64)
    if n == 0:
        return out
    q_sizes = np.diff(args.query_offsets)
    group_of = np.repeat(np.arange(len(q_sizes), dtype=np.int64), q_sizes)
    kernel = _group_knn_kernel(_capacity(args.k))
    d_query = cuda.to_device(args.query)
    d_data = d_query if args.exclude_self else cuda.to_device(args.data)
    d_out = cuda.device_array((n, args.k), dtype=np.float64)
    threads = int(config.THREADS_PER_BLOCK)
    kernel[-(-n // threads), threads](
        d_query, cuda.to_device(group_of), d_data, cuda.to_device(args.data_offsets),
        args.k, args.exclude_self, d_out)
    d_out.copy_to_host(out)
    return out


def grouped_log_radius_sums(distances, offsets, *, k_column=None):
    """Per-group ``sum log eps`` of one distance column, and zero-radius counts.

    Parameters
    ----------
    distances : array-like of shape (n_total, k), float64
        Output of a grouped search.
    offsets : array-like of int, shape (G + 1,)
        Group boundaries of the rows.
    k_column : int, optional
        Which neighbour (1-based); default the last column.

    Returns
    -------
    log_sums : ndarray of shape (G,), float64
        ``sum_i log distances[i, k_column - 1]`` over each group's rows, summed in
        row order; ``-inf`` where a radius is 0.
    zeros : ndarray of shape (G,), int64
        Number of zero radii (duplicate points) per group.
    """
    from ..._checks import check_offsets

    dist = np.ascontiguousarray(distances, dtype=np.float64)
    if dist.ndim != 2:
        raise ValueError(f"distances must have shape (n_total, k); got shape {dist.shape}.")
    off = check_offsets(offsets, dist.shape[0], "offsets", "distances")
    k = dist.shape[1]
    column = k if k_column is None else int(k_column)
    if not 1 <= column <= k:
        raise ValueError(f"k_column must be in [1, {k}] (1-based neighbour rank); "
                         f"got {k_column!r}.")
    require_numba_cuda()
    sums, zeros, _ = _launch_reduction(dist, off, column - 1, dim=0, k=column,
                                       want_entropy=False)
    return sums, zeros


def grouped_kl_entropy(query, offsets, *, k):
    """Kozachenko-Leonenko entropy of each group, in nats, computed on the GPU.

    ``h_g = psi(N_g) - psi(k) + log V_d + (d / N_g) sum_i log eps_k(i)`` with
    ``eps_k(i)`` the distance from point ``i`` to its k-th nearest other point of
    its group and ``V_d = pi^(d/2) / Gamma(d/2 + 1)``.

    Parameters
    ----------
    query : array-like of shape (n_total, d)
    offsets : array-like of int, shape (G + 1,)
        Every group needs at least ``k + 1`` points.
    k : int

    Returns
    -------
    ndarray of shape (G,), float64
        Entropies in nats.

    Raises
    ------
    ValueError
        A group holds duplicate points (a zero k-th radius makes the entropy
        ``-inf``): the message names the group; de-duplicate or add dither first.
    """
    args = group_args(query, offsets, None, None, k)
    dist = grouped_knn_distances_cuda(args.query, args.query_offsets, k=args.k)
    d = args.query.shape[1]
    _, zeros, entropy = _launch_reduction(dist, args.query_offsets, args.k - 1, dim=d,
                                          k=args.k, want_entropy=True)
    if zeros.any():
        g = int(np.flatnonzero(zeros)[0])
        raise ValueError(f"group {g} has {int(zeros[g])} point(s) whose k-th neighbour "
                         f"(k={args.k}) is at distance 0 (duplicate samples), so its "
                         f"entropy estimate would be -inf ({int((zeros > 0).sum())} group(s) "
                         f"affected). Remove duplicates, add dither below the data's "
                         f"resolution, or use a larger k.")
    return entropy


def require_numba_cuda() -> None:
    """Raise a clear error when numba.cuda cannot launch kernels here."""
    from . import numba_cuda_problem
    from .. import CUDA_INSTALL_HINT, BackendUnavailableError

    problem = numba_cuda_problem()
    if problem is not None:
        raise BackendUnavailableError(f"the grouped GPU kernels need numba.cuda, which is not "
                                      f"usable here: {problem}. To fix it, "
                                      f"{CUDA_INSTALL_HINT}.")


def _capacity(k: int) -> int:
    return next(c for c in GROUP_CAPACITIES if c >= k)


def _launch_reduction(dist, offsets, column, *, dim, k, want_entropy):
    n_groups = len(offsets) - 1
    sums = np.empty(n_groups, dtype=np.float64)
    zeros = np.empty(n_groups, dtype=np.int64)
    entropy = np.empty(n_groups, dtype=np.float64)
    if n_groups == 0:
        return sums, zeros, entropy
    d_sums = cuda.device_array(n_groups, dtype=np.float64)
    d_zeros = cuda.device_array(n_groups, dtype=np.int64)
    d_entropy = cuda.device_array(n_groups, dtype=np.float64)
    threads = int(config.THREADS_PER_BLOCK)
    _reduction_kernel()[-(-n_groups // threads), threads](
        cuda.to_device(dist), cuda.to_device(offsets), column, dim, k, want_entropy,
        d_sums, d_zeros, d_entropy)
    d_sums.copy_to_host(sums)
    d_zeros.copy_to_host(zeros)
    d_entropy.copy_to_host(entropy)
    return sums, zeros, entropy


@functools.lru_cache(maxsize=None)
def _device_functions():
    @cuda.jit(device=True)
    def digamma(x):
        # recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic
        # series; absolute error below 1e-13 for x > 0
        result = 0.0
        while x < 10.0:
            result -= 1.0 / x
            x += 1.0
        inv = 1.0 / x
        inv2 = inv * inv
        series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (
            1.0 / 240 - inv2 * (1.0 / 132)))))
        return result + math.log(x) - 0.5 * inv - series

    @cuda.jit(device=True)
    def log_unit_ball_volume(d):
        return 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)

    return digamma, log_unit_ball_volume


@functools.lru_cache(maxsize=None)
def _reduction_kernel():
    digamma, log_unit_ball_volume = _device_functions()

    @cuda.jit
    def reduce_groups(dist, offsets, column, dim, k, want_entropy, sums, zeros, entropy):
        # one thread per group, rows summed in order: deterministic, and the work
        # (a few hundred logs per group) is small next to the search
        g = cuda.grid(1)
        if g >= sums.shape[0]:
            return
        start = offsets[g]
        stop = offsets[g + 1]
        total = 0.0
        n_zero = 0
        for i in range(start, stop):
            r = dist[i, column]
            if r > 0.0:
                total += math.log(r)
            else:
                n_zero += 1
        zeros[g] = n_zero
        sums[g] = -math.inf if n_zero > 0 else total
        if want_entropy:
            size = stop - start
            if n_zero > 0 or size == 0:
                entropy[g] = math.nan
            else:
                entropy[g] = (digamma(float(size)) - digamma(float(k))
                              + log_unit_ball_volume(float(dim)) + dim * total / size)
        else:
            entropy[g] = math.nan

    return reduce_groups


@functools.lru_cache(maxsize=None)
def _group_knn_kernel(capacity: int):
    """Kernel keeping ``capacity`` neighbours per thread (a compile-time array size)."""
    @cuda.jit
    def group_knn(query, group_of, data, data_offsets, k, exclude_self, out):
        i = cuda.grid(1)
        if i >= query.shape[0]:
            return
        best = cuda.local.array(capacity, float64)
        for p in range(k):
            best[p] = math.inf
        g = group_of[i]
        d = query.shape[1]
        for j in range(data_offsets[g], data_offsets[g + 1]):
            if exclude_self and j == i:
                continue
            acc = 0.0
            for f in range(d):
                diff = query[i, f] - data[j, f]
                acc += diff * diff
            if acc < best[k - 1]:
                # insertion into the sorted list; ties keep the earlier point first
                p = k - 1
                while p > 0 and best[p - 1] > acc:
                    best[p] = best[p - 1]
                    p -= 1
                best[p] = acc
        for p in range(k):
            out[i, p] = math.sqrt(best[p])

    return group_knn
