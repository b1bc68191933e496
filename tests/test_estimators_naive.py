"""Every estimator against the slow textbook references of tests/naive.py."""

import math

import numpy as np
import pytest

import naive
from hpx_uncert.estimators.conditional import (conditional_entropy, conditional_entropy_power,
                                               conditional_hellinger2,
                                               conditional_kl_divergence,
                                               conditional_renyi_divergence)
from hpx_uncert.estimators.divergence import hellinger2, kl_divergence, renyi_divergence
from hpx_uncert.estimators.entropy import entropy, entropy_power
from hpx_uncert.estimators.gaussian import (gaussian_entropy, gaussian_entropy_power,
                                            gaussian_kl, gaussian_renyi)

RTOL = 1e-9


@pytest.mark.parametrize("d,k", [(1, 1), (3, 5), (7, 3)])
def test_entropy_matches_textbook(rng, d, k):
    x = rng.normal(size=(70, d)) * rng.uniform(0.5, 2.0, size=d)
    want = naive.kl_entropy(x, k)
    got = entropy(x, k=k)
    assert got.value == pytest.approx(want, rel=RTOL)
    assert got.n == 70 and got.d == d and got.k == k and got.details["correction"] is None
    power = entropy_power(x, k=k)
    assert power.value == pytest.approx(math.exp(2 * want / d) / (2 * math.pi * math.e), rel=RTOL)


@pytest.mark.parametrize("n,m,d,k", [(60, 60, 2, 5), (50, 80, 4, 2), (90, 40, 1, 1)])
def test_kl_matches_textbook(rng, n, m, d, k):
    p = rng.normal(size=(n, d))
    q = rng.normal(0.5, 1.3, size=(m, d))
    assert kl_divergence(p, q, k=k).value == pytest.approx(naive.wkv_kl(p, q, k), rel=RTOL)


@pytest.mark.parametrize("alpha", [0.5, 0.8, 1.5, 3.0])
@pytest.mark.parametrize("n,m,d", [(60, 60, 2), (50, 80, 4)])
def test_renyi_matches_textbook(rng, alpha, n, m, d):
    p = rng.normal(size=(n, d))
    q = rng.normal(0.3, 1.2, size=(m, d))
    got = renyi_divergence(p, q, alpha=alpha, k=5)
    assert got.value == pytest.approx(naive.ps_renyi(p, q, 5, alpha), rel=RTOL)


def test_hellinger2_matches_textbook(rng):
    p = rng.normal(size=(60, 3))
    q = rng.normal(0.8, 1.0, size=(70, 3))
    got = hellinger2(p, q, k=4)
    assert got.value == pytest.approx(naive.knn_hellinger2(p, q, 4), rel=RTOL)
    d_half = renyi_divergence(p, q, alpha=0.5, k=4).value
    assert got.value == pytest.approx(1 - math.exp(-d_half / 2), rel=RTOL)


def test_renyi_log_domain_survives_high_dimension(rng):
    # rho^81 underflows for tight clusters; the log-domain sum does not care
    d = 81
    p = rng.normal(scale=1e-6, size=(40, d))
    q = rng.normal(scale=1e-6, size=(40, d))
    got = renyi_divergence(p, q, alpha=0.5, k=3)
    assert math.isfinite(got.value)
    # the textbook value rescaled: D is scale invariant, so compute it at unit scale
    assert got.value == pytest.approx(naive.ps_renyi(p * 1e6, q * 1e6, 3, 0.5), rel=1e-7)


def _groups(rng, sizes, d, loc=0.0, scale=1.0):
    return [rng.normal(loc, scale, size=(s, d)) for s in sizes]


def test_conditional_forms_average_per_group_textbook(rng):
    sizes_p, sizes_q = [30, 25, 40], [35, 30, 28]
    p = _groups(rng, sizes_p, 2)
    q = _groups(rng, sizes_q, 2, loc=0.4, scale=1.4)
    k = 3
    h = [naive.kl_entropy(g, k) for g in p]
    assert conditional_entropy(p, k=k).value == pytest.approx(np.mean(h), rel=RTOL)
    assert conditional_entropy(p, k=k).stderr == pytest.approx(np.std(h, ddof=1) / math.sqrt(3),
                                                               rel=1e-7)
    power = math.exp(2 * np.mean(h) / 2) / (2 * math.pi * math.e)
    assert conditional_entropy_power(p, k=k).value == pytest.approx(power, rel=RTOL)
    kl = [naive.wkv_kl(a, b, k) for a, b in zip(p, q)]
    assert conditional_kl_divergence(p, q, k=k).value == pytest.approx(np.mean(kl), rel=RTOL)
    ren = [naive.ps_renyi(a, b, k, 0.7) for a, b in zip(p, q)]
    got = conditional_renyi_divergence(p, q, alpha=0.7, k=k)
    assert got.value == pytest.approx(np.mean(ren), rel=RTOL)
    assert got.details["group_values"] == pytest.approx(ren, rel=RTOL)
    hel = [naive.knn_hellinger2(a, b, k) for a, b in zip(p, q)]
    assert conditional_hellinger2(p, q, k=k).value == pytest.approx(np.mean(hel), rel=RTOL)


def test_conditional_accepts_3d_array_and_one_group(rng):
    x = rng.normal(size=(4, 30, 2))
    want = np.mean([naive.kl_entropy(g, 5) for g in x])
    assert conditional_entropy(x).value == pytest.approx(want, rel=RTOL)
    single = conditional_entropy(x[:1])
    assert single.value == pytest.approx(naive.kl_entropy(x[0], 5), rel=RTOL)
    assert single.stderr == pytest.approx(entropy(x[0]).stderr)


def test_conditional_with_correction_equals_per_group_corrected(rng):
    x = rng.normal(size=(3, 40, 2)) @ np.array([[2.0, 0.5], [0.0, 0.3]])
    got = conditional_entropy(x, correction="whiten")
    want = np.mean([entropy(g, correction="whiten").value for g in x])
    assert got.value == pytest.approx(want, rel=RTOL)
    assert got.details["correction"] == "whiten"


def test_gaussian_plugins_match_textbook_closed_forms(rng):
    a = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [-0.3, 0.2, 0.5]])
    p = rng.normal(size=(200, 3)) @ a.T
    q = rng.normal(0.5, 1.5, size=(150, 3))
    mp, cp = naive.gaussian_moments(p)
    mq, cq = naive.gaussian_moments(q)
    assert gaussian_entropy(p).value == pytest.approx(naive.normal_entropy(cp), rel=RTOL)
    assert gaussian_entropy_power(p).value == pytest.approx(np.linalg.det(cp) ** (1 / 3),
                                                            rel=RTOL)
    assert gaussian_kl(p, q).value == pytest.approx(naive.normal_kl(mp, cp, mq, cq), rel=RTOL)
    for alpha in (0.5, 0.9, 1.3):
        assert gaussian_renyi(p, q, alpha=alpha).value == pytest.approx(
            naive.normal_renyi(mp, cp, mq, cq, alpha), rel=RTOL)
