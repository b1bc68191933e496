"""Synthetic workloads: samples follow their stated laws; answers match independent maths."""

import json
import math

import numpy as np
import pytest

from hpx_uncert import theory
from hpx_uncert.io import open_archive, validate_archive
from hpx_uncert.synth import make_gaussian_mixture, make_images, make_linear_gaussian, truth_path
from hpx_uncert.synth.mixture import exact_answers, make_mixture_problem


def _whitened(cov_hat, cov):
    """L^-1 cov_hat L^-T with L L^T = cov: the identity when cov_hat == cov."""
    w = np.linalg.inv(np.linalg.cholesky(cov))
    return w @ cov_hat @ w.T


def _logdet(c):
    return np.linalg.slogdet(c)[1]


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    path = tmp_path_factory.mktemp("lg") / "lg.h5"
    answers = make_linear_gaussian(path, d=4, num_measurements=400, reference_samples=48,
                                   model_samples=48, gammas=(0.5, 1.0, 2.0), seed=3)
    return path, answers


def test_linear_answers_file_and_archive(linear):
    path, answers = linear
    with open(truth_path(path)) as fh:
        assert json.load(fh)["models"].keys() == answers["models"].keys()
    arch = open_archive(path)
    assert arch.samples_per_model == {"gamma_0.5": 48, "gamma_1": 48, "gamma_2": 48,
                                      "isotropic": 48, "mmse": 1}
    assert arch.num_reference == 48 and arch.d == 4
    assert [p for p in validate_archive(path, k=5) if p.severity == "error"] == []


def test_linear_exact_values_against_independent_formulas(linear):
    _, answers = linear
    prob = answers["problem"]
    cov_x, A, cov_w = (np.array(prob[k]) for k in ("cov_x", "A", "cov_w"))
    d = 4
    s = np.linalg.inv(np.linalg.inv(cov_x) + A.T @ np.linalg.inv(cov_w) @ A)
    n = math.exp(_logdet(s) / d)
    assert answers["inherent_uncertainty"]["value"] == pytest.approx(n, rel=1e-10)
    assert answers["inherent_uncertainty_gaussian"]["value"] == pytest.approx(n, rel=1e-10)
    for gamma in (0.5, 1.0, 2.0):
        got = answers["models"][f"gamma_{gamma:g}"]
        assert got["uncertainty"]["value"] == pytest.approx((1 + gamma) * n, rel=1e-10)
        assert got["uncertainty"]["value"] == pytest.approx(
            theory.gamma_family_uncertainty(gamma, n), rel=1e-10)
        p = d / 2 * math.log((1 + gamma) ** 2 / (4 * gamma))
        assert got["perception"]["value"] == pytest.approx(p, abs=1e-10)
        assert got["spread"]["value"] == pytest.approx(gamma * n, rel=1e-10)
        assert got["distortion"]["value"] == pytest.approx((1 + gamma) * np.trace(s) / d,
                                                           rel=1e-10)
        assert got["kl"]["value"] == pytest.approx(d / 2 * (1 / gamma - 1 + math.log(gamma)),
                                                   abs=1e-10)
        assert got["hellinger2"]["value"] == pytest.approx(1 - math.exp(-p / 2), abs=1e-12)
        # on the bound for gamma <= 1 (eta = 1 + gamma), above it for gamma > 1
        eta = 1 + min(gamma, 1 / gamma)
        assert got["bounds"]["lower"]["value"] == pytest.approx(eta * n, rel=1e-8)
        assert got["region"] == ("optimal" if gamma <= 1 else "suboptimal")
        pooled = cov_x + (gamma - 1) * s
        mid = (cov_x + pooled) / 2
        want = _logdet(mid) - 0.5 * (_logdet(cov_x) + _logdet(pooled))
        assert got["perception_pooled"]["value"] == pytest.approx(want, abs=1e-10)
    iso = answers["models"]["isotropic"]
    c = n * np.eye(d)
    assert iso["uncertainty"]["value"] == pytest.approx(math.exp(_logdet(s + c) / d), rel=1e-10)
    assert iso["perception"]["value"] == pytest.approx(
        _logdet((s + c) / 2) - 0.5 * (_logdet(s) + _logdet(c)), abs=1e-10)
    assert iso["region"] == "suboptimal"
    mmse = answers["models"]["mmse"]
    assert mmse["uncertainty"]["value"] == pytest.approx(n, rel=1e-10)
    assert mmse["perception"]["value"] is None and "infinite" in mmse["perception"]["note"]
    assert mmse["distortion"]["value"] == pytest.approx(np.trace(s) / d, rel=1e-10)


def test_linear_samples_follow_their_laws(linear):
    path, answers = linear
    prob = answers["problem"]
    cov_x, A, cov_w = (np.array(prob[k]) for k in ("cov_x", "A", "cov_w"))
    s = np.linalg.inv(np.linalg.inv(cov_x) + A.T @ np.linalg.inv(cov_w) @ A)
    arch = open_archive(path)
    x, y = arch.read("truth"), arch.read("measurement")
    mean = y @ (s @ A.T @ np.linalg.inv(cov_w)).T           # E[X|Y] recomputed here
    eye = np.eye(4)
    # 400 truths: whitened covariance entries have sd ~ 0.05-0.07
    np.testing.assert_allclose(_whitened(np.cov(x.T), cov_x), eye, atol=0.3)
    resid = y - x @ A.T
    assert np.std(resid) == pytest.approx(math.sqrt(cov_w[0, 0]), rel=0.1)
    np.testing.assert_allclose(arch.read("models/mmse")[:, 0], mean, atol=1e-12)
    for name, scale in (("reference", 1.0), ("models/gamma_0.5", 0.5), ("models/gamma_2", 2.0)):
        dev = (arch.read(name) - mean[:, None]).reshape(-1, 4)   # 19200 draws around E[X|Y]
        np.testing.assert_allclose(_whitened(dev.T @ dev / len(dev), scale * s), eye, atol=0.06)
    iso = (arch.read("models/isotropic") - mean[:, None]).reshape(-1, 4)
    np.testing.assert_allclose(iso.T @ iso / len(iso), answers["models"]["isotropic"]
                               ["spread"]["value"] * eye, atol=0.06 * np.trace(s) / 4 * 2)
    err = (arch.read("models/gamma_1") - x[:, None]).reshape(-1, 4)  # pooled error ~ N(0, 2S)
    np.testing.assert_allclose(_whitened(err.T @ err / len(err), 2 * s), eye, atol=0.2)


def test_linear_shards_and_reproducibility(tmp_path):
    kw = dict(d=3, num_measurements=30, reference_samples=6, model_samples=5, seed=9)
    make_linear_gaussian(tmp_path / "a", shards=3, **kw)
    make_linear_gaussian(tmp_path / "b", shards=3, **kw)
    a, b = open_archive(tmp_path / "a"), open_archive(tmp_path / "b")
    assert len(a.shards) == 3 and a.num_measurements == 30
    np.testing.assert_array_equal(a.ids(), np.arange(30))
    assert a.fingerprint() == b.fingerprint()
    assert (tmp_path / "a.truth.json").exists()
    make_linear_gaussian(tmp_path / "c", shards=3, **{**kw, "seed": 10})
    assert open_archive(tmp_path / "c").fingerprint() != a.fingerprint()
    with pytest.raises(ValueError, match=r"gammas must be positive noise scales"):
        make_linear_gaussian(tmp_path / "d.h5", gammas=(0.0,))


def test_mixture_posterior_sampling_matches_importance_weighting():
    post = make_mixture_problem(d=2, m=1, components=3, seed=1)
    rng = np.random.default_rng(5)
    y = np.array([[0.4]])
    draws = post.sample(y, 40000, rng)[0]
    # independent route: prior draws weighted by the likelihood p(y | x)
    prior = post.sample_prior(400000, rng)
    logw = -0.5 * ((y[0, 0] - prior @ post.A[0]) / post.noise_std) ** 2
    w = np.exp(logw - logw.max())
    w /= w.sum()
    is_mean = w @ prior
    is_cov = (prior - is_mean).T @ ((prior - is_mean) * w[:, None])
    mean, cov = post.moments(y)
    np.testing.assert_allclose(mean[0], is_mean, atol=0.05)
    np.testing.assert_allclose(cov[0], is_cov, atol=0.08)
    np.testing.assert_allclose(draws.mean(0), mean[0], atol=0.05)
    np.testing.assert_allclose(np.cov(draws.T), cov[0], atol=0.08)


def test_mixture_with_one_component_reduces_to_closed_forms():
    post = make_mixture_problem(d=3, m=1, components=1, seed=2)
    s = post.post_covs[0]
    n = math.exp(_logdet(s) / 3)
    ans = exact_answers(post, n_mc=4000, n_outer=40, n_inner=400, seed=1)
    inh = ans["inherent_uncertainty"]
    assert abs(inh["value"] - n) < 4 * inh["stderr"]
    assert ans["inherent_uncertainty_gaussian"]["value"] == pytest.approx(n, rel=1e-9)
    u = ans["models"]["posterior"]["uncertainty"]
    assert abs(u["value"] - 2 * n) < 4 * u["stderr"]  # error covariance 2S
    fit = ans["models"]["gaussian_fit"]
    assert abs(fit["perception"]["value"]) < 1e-9 and abs(fit["kl"]["value"]) < 1e-9
    assert ans["models"]["mmse"]["distortion"]["value"] == pytest.approx(np.trace(s) / 3,
                                                                         rel=1e-9)


def test_mixture_archive_and_answers(tmp_path):
    answers = make_gaussian_mixture(tmp_path / "gm.h5", d=2, m=1, num_measurements=3000,
                                    reference_samples=8, model_samples=8, seed=4,
                                    n_mc=4000, n_outer=60, n_inner=400)
    prob = answers["problem"]
    w, mu, covs = (np.array(prob[k]) for k in ("weights", "means", "covs"))
    prior_mean = w @ mu
    prior_cov = np.einsum("k,kij->ij", w, covs + np.einsum("ki,kj->kij", mu, mu)) \
        - np.outer(prior_mean, prior_mean)
    arch = open_archive(tmp_path / "gm.h5")
    x = arch.read("truth")
    np.testing.assert_allclose(x.mean(0), prior_mean, atol=4 * np.sqrt(np.diag(prior_cov)
                                                                       / len(x)).max())
    np.testing.assert_allclose(_whitened(np.cov(x.T), prior_cov), np.eye(2), atol=0.12)
    # the pooled exact posterior draws follow the prior as well
    ref = arch.read("reference")[:, 0]
    np.testing.assert_allclose(_whitened(np.cov(ref.T), prior_cov), np.eye(2), atol=0.12)
    inh, gauss = answers["inherent_uncertainty"], answers["inherent_uncertainty_gaussian"]
    assert inh["value"] < gauss["value"]  # non-Gaussian posterior: maximum entropy gap
    post = answers["models"]["posterior"]
    # entropy power inequality: N(X_hat - X | Y) >= 2 N(X|Y)
    assert post["uncertainty"]["value"] > 2 * inh["value"] - 4 * post["uncertainty"]["stderr"]
    assert post["region"] == "optimal"
    assert answers["models"]["gaussian_fit"]["perception"]["value"] > 0.05
    assert answers["models"]["gaussian_fit"]["spread"]["value"] == gauss["value"]


@pytest.mark.parametrize("degradation", ["downsample", "inpaint"])
def test_images(tmp_path, degradation):
    path = tmp_path / "img.h5"
    answers = make_images(path, degradation=degradation, tile=16, num_measurements=10,
                          model_samples=3, images=("camera", "coins"))
    assert answers["exact"] is False and "no exact answers" in answers["note"]
    arch = open_archive(path)
    assert arch.layout == "image" and arch.sample_shape == (1, 16, 16)
    assert arch.attrs["data_range"] == 1.0
    x, y = arch.read("truth"), arch.read("measurement")
    assert x.min() >= 0 and x.max() <= 1
    if degradation == "downsample":
        assert y.shape == (10, 1, 4, 4)
        draws = arch.read("models/backprojection_sampler")
        means = draws.reshape(10, 3, 1, 4, 4, 4, 4).mean(axis=(4, 6))
        np.testing.assert_allclose(means, np.broadcast_to(y[:, None], means.shape), atol=1e-5)
        assert np.std(draws[:, 0] - draws[:, 1]) > 0.01
    else:
        observed = y[:, 1].astype(bool)[:, None]               # (G, 1, H, W)
        draws = arch.read("models/biharmonic_noise")[:, :, 0]   # (G, M, H, W)
        det = arch.read("models/biharmonic")[:, :, 0]
        kept = np.broadcast_to(det, draws.shape)
        np.testing.assert_array_equal(np.where(observed, draws, 0), np.where(observed, kept, 0))
        assert np.std(np.where(observed, 0, draws - det)) > 0.01
    with pytest.raises(ValueError, match="degradation must be one of"):
        make_images(tmp_path / "x.h5", degradation="blur")
