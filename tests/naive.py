"""Slow, obviously-correct references that every fast path is tested against.

Plain Python loops and float64 throughout; no faiss, no numba, no cleverness.
"""

from __future__ import annotations

import math

import numpy as np


def knn_distances(query, data=None, k=1, query_labels=None, data_labels=None):
    """Sorted Euclidean distances from each query point to its k nearest data points.

    ``data=None`` searches ``query`` itself, excluding each point by its index.
    Points with equal labels are never neighbours. Returns (n, k) float64.
    """
    q = np.asarray(query, dtype=np.float64)
    self_search = data is None
    x = q if self_search else np.asarray(data, dtype=np.float64)
    if self_search:
        if query_labels is None:
            query_labels = np.arange(len(q))
        data_labels = query_labels
    out = np.empty((len(q), k))
    for i in range(len(q)):
        dists = []
        for j in range(len(x)):
            if query_labels is not None and data_labels is not None \
                    and data_labels[j] == query_labels[i]:
                continue
            dists.append(math.sqrt(sum((float(a) - float(b)) ** 2 for a, b in zip(q[i], x[j]))))
        dists.sort()
        out[i] = dists[:k]
    return out


# --- estimator references (textbook formulas, loops, math module only) ---------------

EULER_GAMMA = 0.57721566490153286


def digamma_int(n):
    """psi(n) for a positive integer n: -gamma + sum_{j<n} 1/j."""
    return -EULER_GAMMA + sum(1.0 / j for j in range(1, n))


def log_unit_ball(d):
    return 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1.0)


def kl_entropy(x, k):
    """Kozachenko-Leonenko: psi(N) - psi(k) + log V_d + (d/N) sum log eps_k."""
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    eps = knn_distances(x, k=k)[:, k - 1]
    return (digamma_int(n) - digamma_int(k) + log_unit_ball(d)
            + d / n * sum(math.log(e) for e in eps))


def wkv_kl(p, q, k):
    """Wang-Kulkarni-Verdu: (d/n) sum log(nu/rho) + log(m/(n-1))."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    n, d = p.shape
    m = len(q)
    rho = knn_distances(p, k=k)[:, k - 1]
    nu = knn_distances(p, q, k=k)[:, k - 1]
    return d / n * sum(math.log(a / b) for a, b in zip(nu, rho)) + math.log(m / (n - 1))


def renyi_sum(p, q, k, alpha):
    """(1/n) sum ((n-1) rho^d / (m nu^d))^(1-alpha) * B_{k,alpha}, in plain arithmetic."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    n, d = p.shape
    m = len(q)
    rho = knn_distances(p, k=k)[:, k - 1]
    nu = knn_distances(p, q, k=k)[:, k - 1]
    b = math.gamma(k) ** 2 / (math.gamma(k - alpha + 1) * math.gamma(k + alpha - 1))
    total = sum(((n - 1) * float(r) ** d / (m * float(v) ** d)) ** (1 - alpha)
                for r, v in zip(rho, nu))
    return total / n * b


def ps_renyi(p, q, k, alpha):
    """Poczos-Schneider Renyi divergence 1/(alpha-1) log(renyi_sum)."""
    return math.log(renyi_sum(p, q, k, alpha)) / (alpha - 1)


def knn_hellinger2(p, q, k):
    return 1.0 - renyi_sum(p, q, k, 0.5)


def gaussian_moments(x):
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    c = x - mean
    return mean, c.T @ c / (len(x) - 1)


def normal_entropy(cov):
    d = cov.shape[0]
    return 0.5 * math.log((2 * math.pi * math.e) ** d * np.linalg.det(cov))


def normal_kl(mp, cp, mq, cq):
    d = len(mp)
    iq = np.linalg.inv(cq)
    delta = mp - mq
    return 0.5 * (np.trace(iq @ cp) + delta @ iq @ delta - d
                  + math.log(np.linalg.det(cq) / np.linalg.det(cp)))


def normal_renyi(mp, cp, mq, cq, alpha):
    cr = (1 - alpha) * cp + alpha * cq
    delta = mp - mq
    return (alpha / 2 * delta @ np.linalg.inv(cr) @ delta
            - 1 / (2 * (alpha - 1)) * math.log(np.linalg.det(cr) / (
                np.linalg.det(cp) ** (1 - alpha) * np.linalg.det(cq) ** alpha)))


def grouped_knn_distances(query, query_offsets, data=None, data_offsets=None, k=1):
    """k-NN distances of each point within its own group (or against group g of data).

    Loops over groups and calls :func:`knn_distances` on each. Returns (n_total, k).
    """
    q = np.asarray(query, dtype=np.float64)
    out = np.empty((len(q), k))
    for g in range(len(query_offsets) - 1):
        lo, hi = query_offsets[g], query_offsets[g + 1]
        if hi == lo:
            continue
        if data is None:
            out[lo:hi] = knn_distances(q[lo:hi], k=k)
        else:
            part = np.asarray(data, dtype=np.float64)[data_offsets[g]:data_offsets[g + 1]]
            out[lo:hi] = knn_distances(q[lo:hi], part, k=k)
    return out
