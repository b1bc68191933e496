"""hpx_uncert.theory against closed forms, quadrature, Monte Carlo and peers."""

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from scipy import integrate, stats

from hpx_uncert import theory as th


def _random_spd(rng, d, *, scale=1.0):
    a = rng.standard_normal((d, d))
    return scale * (a @ a.T / d + 0.3 * np.eye(d))


def _eta_decimal(P, d, digits=400):
    """Theorem 3's textbook formula in high-precision decimal arithmetic."""
    with localcontext() as ctx:
        ctx.prec = digits
        a = (Decimal(2) * Decimal(P) / Decimal(d)).exp()
        return 2 * a - ((2 * a - 1) ** 2 - 1).sqrt()


# --- entropy power ----------------------------------------------------------

def test_entropy_power_of_gaussian_is_its_variance():
    for var in (0.01, 1.0, 7.5):
        h = 0.5 * math.log(2 * math.pi * math.e * var)
        assert th.entropy_to_power(h, 1) == pytest.approx(var, rel=1e-13)
    cov = np.diag([0.5, 2.0, 4.0])
    h = stats.multivariate_normal(np.zeros(3), cov).entropy()
    assert th.entropy_to_power(h, 3) == pytest.approx(4.0 ** (1 / 3), rel=1e-12)


def test_power_to_entropy_inverts_and_scales():
    for d in (1, 5, 81):
        h = np.array([-50.0, -1.0, 0.0, 3.0, 4.0 * d])
        back = th.power_to_entropy(th.entropy_to_power(h, d), d)
        np.testing.assert_allclose(back, h, rtol=1e-12, atol=1e-10)
    # h(aX) = h(X) + d log|a|  <=>  N(aX) = a^2 N(X)
    assert th.entropy_to_power(1.3 + 4 * math.log(3.0), 4) == \
        pytest.approx(9.0 * th.entropy_to_power(1.3, 4), rel=1e-12)
    assert th.power_to_entropy(0.0, 3) == -math.inf


def test_entropy_power_errors():
    with pytest.raises(ValueError, match=r"'d' parameter must be an int in the range \[1, inf\)"):
        th.entropy_to_power(1.0, 0)
    with pytest.raises(ValueError, match=r"'d' parameter must be an int.*Got 2.5"):
        th.entropy_to_power(1.0, 2.5)
    with pytest.raises(ValueError, match=r"n must be >= 0 \(inf allowed\); got -1.0"):
        th.power_to_entropy(-1.0, 2)


# --- eta ------------------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 16, 81, 2048])
def test_eta_is_two_at_zero(d):
    assert th.eta(0.0, d) == 2.0
    assert th.gamma_from_perception(0.0, d) == 1.0


def test_eta_paper_figure_values():
    assert th.eta(2.0, 64) == pytest.approx(1.605, abs=5e-4)
    assert th.eta(2.0, 2048) == pytest.approx(1.915, abs=5e-4)


def test_eta_matches_high_precision_textbook_formula():
    for d in (1, 3, 64, 2048):
        for P in (1e-8, 1e-3, 0.5, 2.0, 10.0, 50.0, 300.0):
            exact = _eta_decimal(P, d)
            assert th.eta(P, d) == pytest.approx(float(exact), rel=1e-14), (P, d)
            # relative accuracy of gamma = eta - 1, which the textbook form loses at large P
            assert th.gamma_from_perception(P, d) == pytest.approx(float(exact - 1), rel=1e-12)


def test_eta_shape_decreasing_convex_limit_and_growth_with_d():
    P = np.linspace(0.0, 40.0, 4001)
    for d in (1, 8, 64):
        e = th.eta(P, d)
        assert np.all(np.diff(e) <= 0)
        assert np.all(np.diff(th.gamma_from_perception(P, d)) < 0)
        assert np.all(np.diff(e, 2) >= -1e-13)
        assert np.all((e >= 1) & (e <= 2))
    assert th.eta(np.inf, 4) == 1.0
    assert th.eta(1e6, 1) == 1.0
    # eta - 1 ~ 1 / (4 e^(2P/d)) for large P
    assert th.gamma_from_perception(30.0, 2) == pytest.approx(math.exp(-30.0) / 4, rel=1e-6)
    ds = [1, 2, 8, 64, 512, 2048]
    for Pv in (0.5, 2.0, 10.0):
        assert np.all(np.diff([th.eta(Pv, d) for d in ds]) > 0)


def test_eta_solves_theorem3_optimum_equation():
    for d in (1, 16, 81):
        P = np.array([1e-6, 0.1, 1.0, 5.0, 20.0])
        g = th.gamma_from_perception(P, d)
        assert np.all((g > 0) & (g <= 1))
        np.testing.assert_allclose((1 + g) ** 2 / (4 * g), np.exp(2 * P / d), rtol=1e-11)


def test_eta_hellinger_is_eta_through_d_half():
    h2 = np.array([0.0, 1e-9, 0.1, 0.5, 0.9, 0.999999])
    for d in (1, 16, 81):
        d_half = -2 * np.log1p(-h2)
        np.testing.assert_allclose(th.eta_hellinger(h2, d), th.eta(d_half, d), rtol=1e-13)
    assert th.eta_hellinger(1.0, 16) == 1.0
    assert th.eta_hellinger(0.0, 16) == 2.0


def test_eta_errors():
    with pytest.raises(ValueError, match=r"P must be >= 0 \(inf allowed\); got -0.5"):
        th.eta(-0.5, 3)
    with pytest.raises(ValueError, match=r"P must be >= 0.*got nan"):
        th.eta([0.1, np.nan], 3)
    with pytest.raises(ValueError, match=r"h2 must lie in \[0, 1\].*got 1.5"):
        th.eta_hellinger(1.5, 3)


# --- bounds and regions ---------------------------------------------------------

def test_theorem1_contains_theorem3_band():
    N, NG, d = 0.3, 0.42, 16
    lo1, hi1 = th.theorem1_bounds(N, NG)
    assert (lo1, hi1) == (0.3, 0.84)
    P = np.linspace(0, 100, 201)
    lo, hi = th.up_bounds(P, d, N, NG)
    assert np.all(lo >= lo1) and np.all(hi <= hi1)
    assert hi[0] == hi1                       # P = 0: posterior sampling, 2 N(X_G|Y)
    assert th.up_bounds(np.inf, d, N, NG) == (N, NG)
    lo_h, hi_h = th.up_bounds(0.25, d, N, NG, divergence="hellinger2")
    assert lo_h == pytest.approx(th.eta(-2 * math.log(0.75), d) * N, rel=1e-13)


def test_bounds_errors():
    with pytest.raises(ValueError, match=r"divergence must be one of \('renyi1/2', 'hellinger2'\)"):
        th.up_bounds(1.0, 4, 0.3, 0.3, divergence="kl")
    with pytest.raises(ValueError, match=r"n_inherent must be finite and >= 0; got -0.1"):
        th.theorem1_bounds(-0.1, 0.3)


@pytest.fixture
def plane():
    d, N, NG, P = 16, 0.3, 0.4, 1.0
    e = th.eta(P, d)
    return dict(d=d, N=N, NG=NG, P=P, lower=e * N, upper=e * NG)


def _call(pl, U, **kw):
    return th.classify_region(U, pl["P"], pl["d"], pl["N"], pl["NG"], **kw)


def test_classify_region_each_region(plane):
    L, B = plane["lower"], plane["upper"]
    mid = 0.5 * (L + B)
    assert _call(plane, 0.8 * L, uncertainty_stderr=0.01).region == "impossible"
    assert _call(plane, mid, uncertainty_stderr=0.005).region == "optimal"
    assert _call(plane, 1.3 * B, uncertainty_stderr=0.01).region == "suboptimal"
    # error bars straddling a boundary: no significant departure from the band
    assert _call(plane, L - 0.01, uncertainty_stderr=0.01).region == "optimal"
    assert _call(plane, B + 0.01, uncertainty_stderr=0.01).region == "optimal"
    assert _call(plane, L - 0.03, uncertainty_stderr=0.01).region == "impossible"
    assert _call(plane, B + 0.03, uncertainty_stderr=0.01).region == "suboptimal"
    # exact values: the boundaries belong to the optimal region
    assert _call(plane, L).region == "optimal"
    assert _call(plane, B).region == "optimal"
    assert _call(plane, L * (1 - 1e-9)).region == "impossible"


def test_classify_region_margins_and_error_propagation(plane):
    L, B = plane["lower"], plane["upper"]
    U = 0.5 * (L + B)
    c = _call(plane, U, uncertainty_stderr=0.004, n_inherent_stderr=0.003)
    e = th.eta(plane["P"], plane["d"])
    assert c.z_lower == pytest.approx((U - L) / math.hypot(0.004, e * 0.003), rel=1e-12)
    assert c.z_upper == pytest.approx((U - B) / 0.004, rel=1e-12)
    assert (c.lower, c.upper) == (L, B) and str(c) == c.region
    # perception error: the boundary moves by N times eta's change over P +- z se_P
    sP = 0.2
    c2 = _call(plane, U, perception_stderr=sP)
    slope = (th.eta(plane["P"] - 2 * sP, 16) - th.eta(plane["P"] + 2 * sP, 16)) / (4 * sP)
    assert c2.z_lower == pytest.approx((U - L) / (plane["N"] * slope * sP), rel=1e-12)
    # a large perception error widens the boundaries' error: a point significantly
    # above B becomes consistent with the band
    above = B + 0.02
    assert _call(plane, above, uncertainty_stderr=0.005).region == "suboptimal"
    assert _call(plane, above, uncertainty_stderr=0.005, perception_stderr=2.0).region == "optimal"


def test_classify_region_edges():
    # deterministic model: D_1/2 = inf, eta = 1
    c = th.classify_region(0.35, np.inf, 16, 0.3, 0.4, uncertainty_stderr=0.01,
                           perception_stderr=0.1)
    assert (c.lower, c.upper, c.region) == (0.3, 0.4, "optimal")
    assert th.classify_region(0.41, np.inf, 16, 0.3, 0.4, uncertainty_stderr=0.01).region \
        == "optimal"
    assert th.classify_region(0.5, np.inf, 16, 0.3, 0.4, uncertainty_stderr=0.01).region \
        == "suboptimal"
    # near P = 0 the tangent of eta is infinite; the secant keeps margins finite
    c0 = th.classify_region(0.61, 0.0, 16, 0.3, 0.3, uncertainty_stderr=0.01,
                            perception_stderr=0.05)
    assert math.isfinite(c0.z_lower) and c0.z_lower > 0
    # Gaussian posterior: the optimal band has zero width; the gamma family lies on it,
    # and a noisy estimate of it stays optimal unless it departs significantly
    g = 0.5
    P = th.gamma_family_perception(g, 16)
    U = th.gamma_family_uncertainty(g, 0.3)
    assert th.classify_region(U, P, 16, 0.3, 0.3).region == "optimal"
    assert th.classify_region(U * 1.001, P, 16, 0.3, 0.3, uncertainty_stderr=1e-3).region == "optimal"
    assert th.classify_region(U * 1.05, P, 16, 0.3, 0.3, uncertainty_stderr=1e-3).region == "suboptimal"
    # Hellinger index
    h2 = -math.expm1(-P / 2)
    ch = th.classify_region(U, h2, 16, 0.3, 0.3, divergence="hellinger2")
    assert ch.region == "optimal" and ch.lower == pytest.approx(U, rel=1e-12)


def test_classify_region_errors():
    with pytest.raises(ValueError, match=r"perception must lie in \[0, 1\]"):
        th.classify_region(0.5, 2.0, 4, 0.3, 0.3, divergence="hellinger2")
    with pytest.raises(ValueError, match=r"z must be a finite number of standard errors > 0; got 0.0"):
        th.classify_region(0.5, 1.0, 4, 0.3, 0.3, z=0)
    with pytest.raises(ValueError, match=r"uncertainty_stderr must be a finite standard error >= 0"):
        th.classify_region(0.5, 1.0, 4, 0.3, 0.3, uncertainty_stderr=-1)
    with pytest.raises(ValueError, match=r"uncertainty must be finite and >= 0; got inf"):
        th.classify_region(np.inf, 1.0, 4, 0.3, 0.3)


def test_theorem4_on_gaussian_errors(rng):
    # error covariance (1+gamma) Sigma: MSE/d = trace/d >= det^(1/d) (AM-GM)
    for _ in range(5):
        cov = _random_spd(rng, 6)
        mse = np.trace(cov) / 6
        U = th.normal_entropy_power(cov)
        check = th.theorem4_holds(mse, U)
        assert check and check.z_margin == math.inf
    assert th.theorem4_holds(0.5, 0.5).holds
    bad = th.theorem4_holds(0.38, 0.5, mse_stderr=0.03, uncertainty_stderr=0.04)
    assert not bad and bad.z_margin == pytest.approx(-0.12 / 0.05, rel=1e-12)
    assert th.theorem4_holds(0.45, 0.5, mse_stderr=0.03, uncertainty_stderr=0.04).holds
    with pytest.raises(ValueError, match=r"mse must be finite and >= 0; got -1.0"):
        th.theorem4_holds(-1.0, 0.5)


# --- Example 1 ------------------------------------------------------------------

def test_example1_is_theorem3_in_one_dimension():
    for sigma2 in (0.1, 1.0, 4.0):
        sq = th.example1_posterior_variance(sigma2)
        assert sq == pytest.approx(sigma2 / (1 + sigma2), rel=1e-15)
        P = np.array([0.0, 1e-4, 0.3, 2.0, 50.0, 1e5])
        np.testing.assert_allclose(th.example1_uncertainty(P, sigma2),
                                   th.eta(np.log1p(P), 1) * sq, rtol=1e-12)
        assert th.example1_uncertainty(0.0, sigma2) == pytest.approx(2 * sq, rel=1e-15)
        assert th.example1_uncertainty(np.inf, sigma2) == sq


def test_example1_curve_is_traced_by_small_noise_estimators():
    sigma2 = 0.5
    sq = th.example1_posterior_variance(sigma2)
    sz2 = sq * np.array([1e-4, 0.05, 0.3, 0.7, 1.0])
    P = th.example1_perception(sz2, sigma2)
    # X_hat - X = Z - (X - E[X|Y]): independent, variances add
    np.testing.assert_allclose(th.example1_uncertainty(P, sigma2), sq + sz2, rtol=1e-10)
    # too much noise: same P as a smaller sigma_z, worse uncertainty
    P_big = th.example1_perception(4 * sq, sigma2)
    assert th.example1_uncertainty(P_big, sigma2) < sq + 4 * sq
    # the index is exp(D_1/2) - 1 between the two posteriors
    for s in sz2:
        assert th.example1_perception(s, sigma2) == pytest.approx(
            math.expm1(th.normal_d_half(0.0, sq, 0.0, s)), rel=1e-10)
    assert th.example1_perception(0.0, sigma2) == math.inf


def test_example1_errors():
    with pytest.raises(ValueError, match=r"sigma2 \(the measurement noise variance\) must be finite and > 0"):
        th.example1_posterior_variance(0.0)


# --- Gaussian closed forms --------------------------------------------------------

def _logpdf1(m, v):
    return lambda x: -0.5 * (x - m) ** 2 / v - 0.5 * math.log(2 * math.pi * v)


def test_normal_one_dimensional_against_quadrature():
    mp, vp, mq, vq = 0.3, 0.7, -0.5, 1.9
    lp, lq = _logpdf1(mp, vp), _logpdf1(mq, vq)
    lim = (-40, 40)
    kl = integrate.quad(lambda x: math.exp(lp(x)) * (lp(x) - lq(x)), *lim, points=[mp, mq])[0]
    assert th.normal_kl(mp, vp, mq, vq) == pytest.approx(kl, rel=1e-8)
    for a in (0.2, 0.5, 0.8, 1.5, 2.5):
        integral = integrate.quad(lambda x: math.exp(a * lp(x) + (1 - a) * lq(x)), *lim, points=[mp, mq])[0]
        assert th.normal_renyi(mp, vp, mq, vq, a) == pytest.approx(
            math.log(integral) / (a - 1), rel=1e-8), a
    bc = integrate.quad(lambda x: math.exp(0.5 * (lp(x) + lq(x))), *lim, points=[mp, mq])[0]
    assert th.normal_d_half(mp, vp, mq, vq) == pytest.approx(-2 * math.log(bc), rel=1e-8)
    assert th.normal_hellinger2(mp, vp, mq, vq) == pytest.approx(1 - bc, rel=1e-8)
    h = integrate.quad(lambda x: -math.exp(lp(x)) * lp(x), -30, 30)[0]
    assert th.normal_entropy(vp) == pytest.approx(h, rel=1e-9)


def test_normal_renyi_diverges_when_mixture_is_not_positive_definite():
    # p = N(0, 2), q = N(0, 1), alpha = 3: p^3 q^-2 ~ exp(+x^2/4) is not integrable
    assert th.normal_renyi(0.0, 2.0, 0.0, 1.0, 3.0) == math.inf
    assert math.isfinite(th.normal_renyi(0.0, 1.0, 0.0, 2.0, 3.0))


def test_normal_three_dimensional_against_monte_carlo(rng):
    d = 3
    mp, mq = rng.standard_normal(d) * 0.5, rng.standard_normal(d) * 0.5
    cp, cq = _random_spd(rng, d), _random_spd(rng, d, scale=1.5)
    p, q = stats.multivariate_normal(mp, cp), stats.multivariate_normal(mq, cq)
    x = p.rvs(size=200_000, random_state=rng)
    log_ratio = p.logpdf(x) - q.logpdf(x)
    n = len(x)
    assert abs(th.normal_kl(mp, cp, mq, cq) - log_ratio.mean()) < 5 * log_ratio.std() / math.sqrt(n)
    for a in (0.5, 0.8):
        w = np.exp((a - 1) * log_ratio)             # (p/q)^(a-1), E_p[w] = exp((a-1) D_a)
        mc = math.log(w.mean()) / (a - 1)
        se = w.std() / math.sqrt(n) / w.mean() / abs(a - 1)
        assert abs(th.normal_renyi(mp, cp, mq, cq, a) - mc) < 5 * se, a
    assert th.normal_entropy(cp) == pytest.approx(p.entropy(), rel=1e-12)


def test_normal_renyi_family_consistency(rng):
    for _ in range(10):
        d = int(rng.integers(1, 7))
        mp, mq = rng.standard_normal(d), rng.standard_normal(d)
        cp, cq = _random_spd(rng, d), _random_spd(rng, d, scale=2.0)
        args = (mp, cp, mq, cq)
        assert th.normal_d_half(*args) == pytest.approx(th.normal_renyi(*args, 0.5), rel=1e-12)
        assert th.normal_d_half(*args) == pytest.approx(th.normal_d_half(mq, cq, mp, cp), rel=1e-12)
        kl = th.normal_kl(*args)
        assert th.normal_renyi(*args, 1 - 1e-7) == pytest.approx(kl, rel=1e-5)
        assert th.normal_renyi(*args, 1 + 1e-7) == pytest.approx(kl, rel=1e-5)
        orders = [0.1, 0.3, 0.5, 0.7, 0.9]
        D = {r: th.normal_renyi(*args, r) for r in orders}
        for i, r in enumerate(orders):
            for t in orders[i:]:
                assert (r / t) * ((1 - t) / (1 - r)) * D[t] <= D[r] * (1 + 1e-12)
                assert D[r] <= D[t] * (1 + 1e-12)
    same = (np.zeros(3), np.eye(3), np.zeros(3), np.eye(3))
    assert th.normal_kl(*same) == 0.0 and th.normal_d_half(*same) == 0.0


def test_gaussian_bound_identity_on_uniform_box():
    # X uniform on a box: h = log volume, X_G has cov diag(s^2 / 12)
    sides = np.array([0.5, 1.0, 3.0, 2.0])
    d = len(sides)
    cov = np.diag(sides**2 / 12)
    n_x = th.entropy_to_power(np.sum(np.log(sides)), d)
    # D_KL(X || X_G) = -h(X) - E_X log q_G(X), the expectation by quadrature per axis
    cross = 0.0
    for s, v in zip(sides, np.diag(cov)):
        cross += integrate.quad(lambda x: -stats.norm(0, math.sqrt(v)).logpdf(x) / s,
                                -s / 2, s / 2)[0]
    kl = cross - np.sum(np.log(sides))
    assert kl > 0
    assert th.normal_entropy_power(cov) == pytest.approx(n_x * math.exp(2 * kl / d), rel=1e-10)


def test_normal_errors():
    with pytest.raises(ValueError, match=r"cov must be positive definite; its smallest eigenvalue is -1"):
        th.normal_entropy(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"cov_q must be positive definite.*add a small ridge"):
        th.normal_kl([0, 0], np.eye(2), [0, 0], np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"cov must be symmetric"):
        th.normal_entropy_power([[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"For a diagonal covariance pass np.diag\(variances\)"):
        th.normal_entropy([1.0, 2.0])
    with pytest.raises(ValueError, match=r"mean_q must be a vector of length d=2"):
        th.normal_d_half([0, 0], np.eye(2), [0, 0, 0], np.eye(2))
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\) or \(1, inf\); got 1.0. For alpha = 1 use normal_kl"):
        th.normal_renyi(0, 1, 0, 1, 1.0)
    with pytest.raises(ValueError, match=r"cov_p and cov_q must have the same shape"):
        th.normal_kl([0], 1.0, [0, 0], np.eye(2))


# --- linear-Gaussian problem and the gamma family --------------------------------

def _schur_posterior(A, cx, cw, mu, y):
    s = A @ cx @ A.T + cw
    k = cx @ A.T @ np.linalg.solve(s, np.eye(len(s)))
    return mu + (y - A @ mu) @ k.T, cx - k @ A @ cx


def test_linear_gaussian_posterior_matches_joint_conditional(rng):
    d, m = 5, 3
    A = rng.standard_normal((m, d))
    cx, cw = _random_spd(rng, d), _random_spd(rng, m, scale=0.2)
    mu = rng.standard_normal(d)
    post = th.linear_gaussian_posterior(A, cx, cw, mean_x=mu)
    y = rng.standard_normal((7, m))
    mean_ref, cov_ref = _schur_posterior(A, cx, cw, mu, y)
    np.testing.assert_allclose(post.cov, cov_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(post.mean(y), mean_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(post.mean(y[2]), mean_ref[2], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(post.chol @ post.chol.T, post.cov, rtol=1e-12, atol=1e-14)
    assert np.allclose(post.chol, np.tril(post.chol))
    assert post.d == d
    assert post.entropy_power == pytest.approx(np.linalg.det(cov_ref) ** (1 / d), rel=1e-10)
    # scalar Example 1 problem: sigma_q^2 = sigma^2 / (1 + sigma^2)
    assert th.linear_gaussian_posterior([[1.0]], 1.0, 0.25).entropy_power == \
        pytest.approx(th.example1_posterior_variance(0.25), rel=1e-14)


def test_linear_gaussian_sampling_covariance(rng):
    post = th.linear_gaussian_posterior(np.eye(2), np.eye(2), 0.5 * np.eye(2))
    draws = post.sample(np.array([1.0, -2.0]), n_samples=40_000, gamma=0.25, rng=rng)
    assert draws.shape == (1, 40_000, 2)
    np.testing.assert_allclose(np.cov(draws[0].T), 0.25 * post.cov, rtol=0.05, atol=2e-3)
    np.testing.assert_allclose(draws[0].mean(0), post.mean([1.0, -2.0]), atol=0.01)


def test_gamma_family_closed_forms_match_gaussian_divergences(rng):
    d = 6
    post = th.linear_gaussian_posterior(rng.standard_normal((4, d)), _random_spd(rng, d),
                                        0.3 * np.eye(4))
    m = post.mean(rng.standard_normal(4))
    n_inh = post.entropy_power
    for g in (0.05, 0.25, 0.5, 1.0, 2.0):
        assert th.gamma_family_perception(g, d) == pytest.approx(
            th.normal_d_half(m, post.cov, m, g * post.cov), rel=1e-10, abs=1e-12)
        # given Y, X_hat and X are independent with the same mean: error cov (1 + g) Sigma
        assert th.gamma_family_uncertainty(g, n_inh) == pytest.approx(
            th.normal_entropy_power((1 + g) * post.cov), rel=1e-12)
        if g <= 1:
            # the family sits on Theorem 3's lower bound
            P = th.gamma_family_perception(g, d)
            assert th.eta(P, d) * n_inh == pytest.approx(th.gamma_family_uncertainty(g, n_inh),
                                                         rel=1e-10)
    assert th.gamma_family_uncertainty(1.0, n_inh) == 2 * n_inh
    assert th.gamma_family_perception(1.0, d) == 0.0
    assert th.gamma_family_perception(0.0, d) == math.inf


def test_linear_gaussian_errors():
    with pytest.raises(ValueError, match=r"A must have shape \(m, d\) = \(2, 3\)"):
        th.linear_gaussian_posterior(np.ones((3, 2)), np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match=r"cov_w must be positive definite"):
        th.linear_gaussian_posterior(np.ones((2, 3)), np.eye(3), np.diag([1.0, 0.0]))
    post = th.linear_gaussian_posterior(np.ones((2, 3)), np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match=r"y must have shape \(m,\) or \(n, m\) with m=2"):
        post.mean(np.zeros(3))
    with pytest.raises(ValueError, match=r"gamma must be finite and >= 0; got -0.1"):
        th.gamma_family_perception(-0.1, 3)
