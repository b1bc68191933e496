"""Bias corrections: Gaussian surrogate, Gaussian-bound, Gaussianization, symmetrisation.

Truths are closed forms (tests/naive.py), exact identities of the bookkeeping
(h(AX) = h(X) + log|det A|, finite-difference Jacobians) and the uncorrected
estimator's textbook formula.
"""

import math

import numpy as np
import pytest

import naive
from hpx_uncert import (conditional_hellinger2, entropy, hellinger2, kl_divergence,
                        renyi_divergence)
from hpx_uncert.estimators import gaussianize as gz
from hpx_uncert.estimators.surrogate import Moments, standard_entropy_bias, surrogate_bias


def _anisotropic_gaussian(rng, n, d, *, shift=0.0, scale=1.0):
    a = rng.normal(size=(d, d)) / math.sqrt(d) + np.eye(d)
    cov = scale ** 2 * a @ a.T
    mean = np.full(d, shift)
    return mean + rng.normal(size=(n, d)) @ np.linalg.cholesky(cov).T, mean, cov


def test_none_is_the_textbook_formula(rng):
    x = rng.normal(size=(300, 6))
    assert entropy(x, correction=None).value == pytest.approx(naive.kl_entropy(x, 5), rel=1e-9)


@pytest.mark.parametrize("correction", ["gaussian", "gaussian-bound", "gaussianize"])
def test_entropy_corrections_remove_the_bias_on_a_gaussian(rng, correction):
    n, d = 2000, 12
    x, _, cov = _anisotropic_gaussian(rng, n, d)
    truth = naive.normal_entropy(cov)
    plain = entropy(x)
    got = entropy(x, correction=correction)
    # the textbook estimate is off by well over a nat here; the corrected one is not
    assert plain.value - truth > 1.0 + 5 * plain.stderr
    assert abs(got.value - truth) < 4 * got.stderr + 0.1
    assert got.details["correction"] == correction


def test_gaussian_surrogate_is_zero_mean_on_its_own_surrogate():
    # data drawn exactly as the surrogates are (same moments, fresh seeds): the corrected
    # estimate's error averages to zero within the Monte Carlo error
    n, d = 800, 8
    moments = Moments(np.zeros(d), np.eye(d), n)
    truth = naive.normal_entropy(np.eye(d))
    errors, errs = [], []
    for seed in range(6):
        x = moments.draw(np.random.default_rng([99, seed]))
        got = entropy(x, correction="gaussian", n_blocks=20)
        errors.append(got.value - truth)
        errs.append(got.stderr)
    assert abs(np.mean(errors)) < 3 * math.sqrt(np.sum(np.square(errs))) / len(errs)


def test_gaussian_surrogate_bookkeeping(rng):
    x, _, _ = _anisotropic_gaussian(rng, 500, 5)
    got = entropy(x, correction="gaussian")
    raw = entropy(x)
    assert got.details["uncorrected_value"] == pytest.approx(raw.value, rel=1e-12)
    assert got.value == pytest.approx(raw.value - got.details["surrogate_bias"], rel=1e-12)
    # the bias is the surrogates' mean estimate minus the closed form of their own moments
    assert got.details["surrogate_truth"] == pytest.approx(
        naive.normal_entropy(np.cov(x, rowvar=False)), rel=1e-12)
    assert got.details["surrogate_bias"] == pytest.approx(
        np.mean(got.details["surrogate_values"]) - got.details["surrogate_truth"], rel=1e-12)
    assert got.stderr == pytest.approx(math.hypot(raw.stderr,
                                                  got.details["surrogate_bias_mc_error"]))


@pytest.mark.parametrize("fn, closed", [
    (kl_divergence, naive.normal_kl),
    (renyi_divergence, lambda mp, cp, mq, cq: naive.normal_renyi(mp, cp, mq, cq, 0.5)),
    (hellinger2, lambda mp, cp, mq, cq: -math.expm1(-0.5 * naive.normal_renyi(mp, cp, mq, cq,
                                                                                 0.5))),
])
def test_divergence_surrogate_removes_the_bias(rng, fn, closed):
    n, d = 1500, 12
    p, mp, cp = _anisotropic_gaussian(rng, n, d)
    q, mq, cq = _anisotropic_gaussian(np.random.default_rng(5), n, d, shift=0.3, scale=1.2)
    truth = closed(mp, cp, mq, cq)
    plain, got = fn(p, q), fn(p, q, correction="gaussian")
    assert abs(plain.value - truth) > 5 * plain.stderr
    assert abs(got.value - truth) < 4 * got.stderr
    assert abs(got.value - truth) < 0.5 * abs(plain.value - truth)


def test_surrogate_truth_follows_the_estimator(rng):
    d = 3
    p, q = Moments(np.zeros(d), np.eye(d), 400), Moments(np.ones(d), 2 * np.eye(d), 400)
    for fn, closed in ((kl_divergence, naive.normal_kl(p.mean, p.cov, q.mean, q.cov)),
                       (renyi_divergence, naive.normal_renyi(p.mean, p.cov, q.mean, q.cov,
                                                             0.5))):
        found = surrogate_bias(lambda a, b: fn(a, b, n_blocks=5), (p, q), repeats=1)
        assert found.truth == pytest.approx(closed, rel=1e-9)


def test_gaussian_symmetric_averages_both_corrected_directions(rng):
    n, d = 600, 6
    p, _, _ = _anisotropic_gaussian(rng, n, d)
    q, _, _ = _anisotropic_gaussian(np.random.default_rng(3), n, d, shift=0.5)
    got = hellinger2(p, q, correction="gaussian-symmetric")
    forward = hellinger2(p, q, correction="gaussian").value
    backward = hellinger2(q, p, correction="gaussian").value
    assert got.value == pytest.approx(0.5 * (forward + backward), rel=1e-12)
    assert renyi_divergence(p, q, correction="gaussian-symmetric").value == pytest.approx(
        renyi_divergence(q, p, correction="gaussian-symmetric").value, rel=1e-12)


def test_bad_corrections_raise_pinned_errors(rng):
    x = rng.normal(size=(100, 3))
    with pytest.raises(ValueError, match=r"must be None or one of \('gaussian', 'gaussianize', "
                                         r"'whiten'\) for divergence estimators; got "
                                         r"'gaussian-symmetric' instead\. It averages the two "
                                         r"directions"):
        kl_divergence(x, x + 1, correction="gaussian-symmetric")
    with pytest.raises(ValueError, match=r"for divergence estimators; got 'gaussian-symmetric'"):
        renyi_divergence(x, x + 1, alpha=0.7, correction="gaussian-symmetric")
    with pytest.raises(ValueError, match=r"for divergence estimators; got 'gaussian-bound'"):
        kl_divergence(x, x + 1, correction="gaussian-bound")
    with pytest.raises(ValueError, match=r"for entropy estimators; got 'Gaussian'"):
        entropy(x, correction="Gaussian")
    with pytest.raises(ValueError, match=r"for symmetric-divergence estimators; got 'bound'"):
        conditional_hellinger2(x[None], x[None] + 1, correction="bound")


def test_whitening_bookkeeping_is_exact(rng):
    x = rng.standard_t(5, size=(400, 4))
    a = rng.normal(size=(4, 4)) + 2 * np.eye(4)
    got = entropy(x @ a.T + 3.0, correction="whiten").value
    want = entropy(x, correction="whiten").value + np.linalg.slogdet(a)[1]
    assert got == pytest.approx(want, abs=1e-9)


def _numerical_log_jacobian(transform, y, eps=1e-6):
    d = len(y)
    jac = np.empty((d, d))
    for j in range(d):
        step = np.zeros(d)
        step[j] = eps
        jac[:, j] = (transform(y + step) - transform(y - step)) / (2 * eps)
    return np.linalg.slogdet(jac)[1]


@pytest.mark.parametrize("radial", [False, True])
def test_gaussianizer_log_jacobian_matches_finite_differences(rng, radial):
    d = 5
    fit = rng.standard_t(4, size=(3000, d)) @ rng.normal(size=(d, d))
    chain = gz.fit_gaussianizer(fit, seed=1, radial=radial)
    assert ("radial" in chain.kinds) is radial
    points = fit[:8] * 0.9 + 0.01  # off the knots, where the maps are differentiable
    _, log_jac = chain.transform(points)
    for y, lj in zip(points, log_jac):
        want = _numerical_log_jacobian(lambda v: chain.transform(v[None])[0][0], y)
        assert lj == pytest.approx(want, abs=1e-5)


def test_marginal_maps_send_the_fit_sample_to_normal_quantiles(rng):
    from scipy.stats import norm

    fit = rng.exponential(size=(20000, 2))
    z, _ = gz.apply_marginal(gz.fit_marginal(fit), fit)
    for j in range(2):
        probs = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
        assert np.quantile(z[:, j], probs) == pytest.approx(norm.ppf(probs), abs=0.02)


def test_gaussianize_entropy_on_an_elliptical_student_t(rng):
    from scipy.special import digamma, gammaln

    n, d, nu = 4000, 30, 4.0
    x = rng.normal(size=(n, d)) * np.sqrt(nu / rng.chisquare(nu, size=n))[:, None]
    truth = (0.5 * d * math.log(nu * math.pi) + gammaln(nu / 2) - gammaln((nu + d) / 2)
             + (nu + d) / 2 * (digamma((nu + d) / 2) - digamma(nu / 2)))
    got = entropy(x, correction="gaussianize")
    assert "radial" in got.details["gaussianize_steps"]
    # measured residual at this size: about +0.6 nat (the surrogate alone: -2.2)
    assert abs(got.value - truth) < 1.0
    surrogate = entropy(x, correction="gaussian")
    assert abs(surrogate.value - truth) > abs(got.value - truth) + 3 * surrogate.stderr


def test_standard_surrogate_bias_is_reused():
    from functools import partial

    calls = []

    def fake(x, *, k):
        from hpx_uncert._estimate import Estimate

        calls.append(len(x))
        return Estimate(1.0, 0.1, n=len(x), d=x.shape[1], k=k, method="kozachenko-leonenko")

    est = partial(fake, k=3)
    first = standard_entropy_bias(est, 50, 2)
    again = standard_entropy_bias(est, 50, 2)
    assert again is first and len(calls) == 2  # two repeats, computed once
    assert first.bias == pytest.approx(1.0 - naive.normal_entropy(np.eye(2)), rel=1e-12)
    assert first.mc_error == pytest.approx(math.sqrt(2 * 0.01) / 2, rel=1e-12)


def test_batched_grouped_surrogate_equals_the_per_group_correction(rng):
    # the batched path draws each group's surrogates exactly as the single-sample
    # correction does, so the two must agree to round-off
    import hpx_uncert as hu
    from hpx_uncert.estimators import conditional as cond
    from hpx_uncert.estimators.divergence import hellinger2, kl_divergence, renyi_divergence

    p = rng.standard_normal((12, 60, 3))
    q = 0.6 * rng.standard_normal((12, 60, 3)) + 0.3
    pairs = list(zip(list(p), list(q)))
    cases = [(hu.conditional_renyi_divergence, renyi_divergence, {"alpha": 0.5}),
             (hu.conditional_renyi_divergence, renyi_divergence, {"alpha": 0.8}),
             (hu.conditional_kl_divergence, kl_divergence, {}),
             (hu.conditional_hellinger2, hellinger2, {})]
    for grouped, single, kw in cases:
        batched = grouped(p, q, correction="gaussian", **kw)
        looped = cond._per_group(single, pairs, d=3, k=5, correction="gaussian", **kw)
        assert batched.value == pytest.approx(looped.value, rel=1e-12, abs=1e-14)
        assert batched.details["correction"] == "gaussian"


def test_grouped_surrogate_removes_most_of_the_d_half_bias():
    # posterior-sized groups (300 vs 300 draws, d = 4) with a variance ratio of 4:
    # the textbook D_1/2 is biased by about -1 nat, the corrected one by < 0.1
    import hpx_uncert as hu
    from hpx_uncert.theory import normal_d_half

    rng = np.random.default_rng(7)
    G, n, d, gamma = 40, 300, 4, 0.25
    ref = rng.standard_normal((G, n, d))
    model = np.sqrt(gamma) * rng.standard_normal((G, n, d))
    exact = normal_d_half(np.zeros(d), np.eye(d), np.zeros(d), gamma * np.eye(d))
    plain = hu.conditional_renyi_divergence(ref, model, alpha=0.5)
    fixed = hu.conditional_renyi_divergence(ref, model, alpha=0.5, correction="gaussian")
    assert abs(plain.value - exact) > 0.5
    assert abs(fixed.value - exact) < 0.1 + 4 * fixed.stderr
