"""Bad inputs, the duplicates policy and the correction hook."""

import math

import numpy as np
import pytest

import naive
from hpx_uncert.estimators import corrections
from hpx_uncert.estimators.conditional import (conditional_entropy, conditional_kl_divergence,
                                               conditional_renyi_divergence)
from hpx_uncert.estimators.divergence import hellinger2, kl_divergence, renyi_divergence
from hpx_uncert.estimators.entropy import entropy
from hpx_uncert.estimators.gaussian import gaussian_entropy, gaussian_kl, gaussian_renyi


def test_bad_samples_are_rejected_with_the_fix(rng):
    x = rng.normal(size=(20, 2))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value\(s\), first at sample 3"):
        entropy(bad)
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples, n_features\); got an array with ndim=3"):
        entropy(rng.normal(size=(4, 5, 2)))
    with pytest.raises(ValueError, match=r"smaller than the number of samples in x \(20\); got k=20"):
        entropy(x, k=20)
    with pytest.raises(ValueError, match=r"must be an int in the range \[1, inf\). Got 0"):
        entropy(x, k=0)
    with pytest.raises(ValueError, match=r"same number of features; got d=2 and d=3"):
        kl_divergence(x, rng.normal(size=(20, 3)))
    with pytest.raises(ValueError, match=r"must not exceed the number of samples in q \(4\); got k=5"):
        kl_divergence(x, rng.normal(size=(4, 2)))
    with pytest.raises(ValueError, match=r"'duplicates' parameter must be one of \('raise', 'drop'\)"):
        entropy(x, duplicates="clamp")


@pytest.mark.parametrize("alpha,match", [
    (1.0, r"alpha -> 1 is the KL divergence; use kl_divergence\(p, q\)"),
    (0.0, r"'alpha' parameter must be a finite number in \(0, 1\) or \(1, inf\); got 0.0"),
    (-0.5, r"got -0.5"),
    (math.inf, r"got inf"),
    (7.0, r"needs k > \|alpha - 1\|; got k=5 and alpha=7.0. Use k >= 7"),
])
def test_renyi_order_is_validated(rng, alpha, match):
    p, q = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    with pytest.raises(ValueError, match=match):
        renyi_divergence(p, q, alpha=alpha)


def test_groups_are_validated(rng):
    with pytest.raises(ValueError, match=r"group 1 of x is empty"):
        conditional_entropy([rng.normal(size=(10, 2)), np.empty((0, 2))])
    with pytest.raises(ValueError, match=r"group 1 of x has 4 samples, but k=5 needs at least 6"):
        conditional_entropy([rng.normal(size=(10, 2)), rng.normal(size=(4, 2))])
    with pytest.raises(ValueError, match=r"x holds no groups"):
        conditional_entropy([])
    with pytest.raises(ValueError, match=r"same number of groups \(one per measurement\); got G=3 and G=2"):
        conditional_kl_divergence(rng.normal(size=(3, 10, 2)), rng.normal(size=(2, 10, 2)))
    with pytest.raises(ValueError, match=r"alpha -> 1 is the KL"):
        conditional_renyi_divergence(rng.normal(size=(3, 10, 2)), rng.normal(size=(3, 10, 2)),
                                     alpha=1)


def test_gaussian_plugins_refuse_singular_covariances(rng):
    with pytest.raises(ValueError, match=r"x has n=3 samples in d=3 dimensions.*needs n > d"):
        gaussian_entropy(rng.normal(size=(3, 3)))
    flat = np.zeros((10, 2))
    flat[:, 0] = rng.normal(size=10)
    with pytest.raises(ValueError, match=r"sample covariance of x is singular \(n=10 samples, d=2\)"):
        gaussian_entropy(flat)
    with pytest.raises(ValueError, match=r"use gaussian_kl\(p, q\)"):
        gaussian_renyi(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)), alpha=1.0)
    with pytest.raises(ValueError, match=r"q has n=2 samples"):
        gaussian_kl(rng.normal(size=(10, 2)), rng.normal(size=(2, 2)))


def test_duplicates_raise_by_default_and_drop_reports_the_count(rng):
    x = rng.normal(size=(40, 2))
    x[[5, 6, 7]] = x[4]          # four identical points: radius 0 for k <= 3
    with pytest.raises(ValueError, match=r"4 of 40 points of x have a zero k-th neighbour "
                                         r"distance.*duplicates='drop'.*dequantise"):
        entropy(x, k=3)
    e = entropy(x, k=3, duplicates="drop")
    assert e.details["zero_radii"] == 4 and e.n == 36
    # textbook terms of the other points, constants with the full N
    eps = naive.knn_distances(x, k=3)[:, 2]
    kept = eps > 0
    want = (naive.digamma_int(40) - naive.digamma_int(3) + naive.log_unit_ball(2)
            + 2 * np.mean(np.log(eps[kept])))
    assert e.value == pytest.approx(want, rel=1e-9)
    assert math.isfinite(e.stderr)
    # with k = 4 the fifth-nearest is another point: no zero radius, no error
    assert math.isfinite(entropy(x, k=4).value)


def test_duplicates_between_samples_in_divergences(rng):
    p = rng.normal(size=(40, 2))
    q = rng.normal(size=(30, 2))
    q[0] = p[0]
    with pytest.raises(ValueError, match=r"1 of 40 points of p \(within p or against q\)"):
        kl_divergence(p, q, k=1)
    for fn in (kl_divergence, renyi_divergence, hellinger2):
        e = fn(p, q, k=1, duplicates="drop")
        assert e.details["zero_radii"] == 1 and e.details["zero_radii_against_q"] == 1
        assert math.isfinite(e.value) and e.n == 39
    with pytest.raises(ValueError, match=r"all 5 points of x have a zero k-th neighbour"):
        entropy(np.ones((5, 2)), k=1, duplicates="drop")


def test_correction_hook_validates_and_accepts_new_corrections(rng):
    x = rng.normal(size=(50, 2))
    with pytest.raises(ValueError, match=r"'correction' parameter must be None or one of "
                                         r"\('gaussian', 'gaussian-bound', 'gaussianize', 'whiten'\) for entropy "
                                         r"estimators; got 'bogus'"):
        entropy(x, correction="bogus")
    with pytest.raises(ValueError, match=r"covariance of x \(n=3 samples, d=2\) is singular"):
        entropy(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), k=1, correction="whiten")

    @corrections.register_correction("test-shift", kinds=("entropy",))
    def _shift(samples, estimate):
        inner = estimate(samples[0] * 2.0)
        return inner.replace(value=inner.value - 2 * math.log(2.0))

    try:
        got = entropy(x, correction="test-shift")
        assert got.value == pytest.approx(entropy(x).value, abs=1e-9)
        assert got.details["correction"] == "test-shift"
        with pytest.raises(ValueError, match=r"for divergence estimators; got 'test-shift'"):
            kl_divergence(x, x + 1.0, correction="test-shift")
    finally:
        corrections._REGISTRY.pop("test-shift")
