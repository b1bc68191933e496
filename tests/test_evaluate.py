"""evaluate: reported values against exact Gaussian answers, resume, shards, merge, CLI.

Tolerances: Gaussian-method values are checked within 4 standard errors plus 3 %
(they are nearly unbiased here); k-NN entropy powers at d = 3 with 60 samples per
measurement have a measured bias of a few percent, checked within 12 % (the spread of
the strongly anisotropic ``wide`` model, +44 % at 40 samples, is left out: that is the
k-NN estimator's anisotropy bias, not the pipeline's).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

import evaluate_archives as ea
from hpx_uncert.cli.main import cli
from hpx_uncert.evaluate import evaluate, merge_part_files

SIZES = dict(G=200, M=40, R=40, d=3)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("arch")
    path = root / "shards"
    exact = ea.make(path, shards=3, seed=1, **SIZES)
    return str(path), exact


@pytest.fixture(scope="module")
def single(archive, tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    report = evaluate(archive[0], outdir=str(out), progress=False, figures=False)
    return out, report


def _close(entry, exact, rel, z=4.0):
    assert entry is not None
    assert abs(entry["value"] - exact) <= z * entry["stderr"] + rel * abs(exact), \
        (entry["value"], entry["stderr"], exact)


def test_gaussian_method_values_match_exact(single, archive):
    _, rep = single
    exact = archive[1]
    _close(rep["inherent_uncertainty_gaussian"], exact["inherent_uncertainty_gaussian"], 0.03)
    for name, ex in exact["models"].items():
        _close(rep["models"][name]["uncertainty_gaussian"], ex["uncertainty_gaussian"], 0.03)
        _close(rep["models"][name]["distortion"], ex["distortion"], 0.03)
        if "perception" in ex and np.isfinite(ex["perception"]):
            # sampling biases of the moments are removed: no relative allowance
            _close(rep["models"][name]["perception_gaussian"], ex["perception"], 0.0)


def test_knn_uncertainties_match_exact(single, archive):
    _, rep = single
    exact = archive[1]
    _close(rep["inherent_uncertainty"], exact["inherent_uncertainty"], 0.12)
    for name, ex in exact["models"].items():
        m = rep["models"][name]
        _close(m["uncertainty"], ex["uncertainty"], 0.12)
        _close(m["uncertainty_pooled"], ex["uncertainty_pooled"], 0.12)
        if name != "wide":
            _close(m["spread"], ex["spread"], 0.12)


def test_gamma_family_is_optimal_and_the_suboptimal_model_above(single, archive):
    # The Gaussian-method call (bias-corrected moments) places the optimal family in
    # the optimal region and the wrong-shape model above it. The k-NN call of the
    # family is not asserted: at 40 samples per measurement in d = 3 the k-NN entropy
    # powers carry a few per cent of bias that need not cancel between N(X|Y) and the
    # model's uncertainty, and near P = 0 eta's infinite slope amplifies any residual
    # perception bias (docs/evaluate.md, "Region call").
    _, rep = single
    for name in ("gamma0.25", "gamma1"):
        assert rep["models"][name]["region_gaussian"]["region"] == "optimal", name
    assert rep["models"]["wide"]["region"]["region"] == "suboptimal"
    assert rep["models"]["wide"]["region_gaussian"]["region"] == "suboptimal"
    from hpx_uncert.theory import eta
    ex = archive[1]
    for name in ("gamma0.25", "gamma1"):
        on_curve = eta(ex["models"][name]["perception"], 3) * ex["inherent_uncertainty"]
        _close(rep["models"][name]["uncertainty_gaussian"], on_curve, 0.03)


def test_report_shape_and_unsupported_quantities_have_reasons(tmp_path):
    ea.make(tmp_path / "a.h5", G=20, M=8, R=8, d=2, reference=False, gammas=(1.0,), wide=False)
    rep = evaluate(str(tmp_path / "a.h5"), progress=False)
    m = rep["models"]["gamma1"]
    for q in ("uncertainty", "perception", "kl", "hellinger2"):
        assert m[q] is None
        assert "no reference" in m["reasons"][q]
    assert rep["inherent_uncertainty"] is None and "no reference" in rep["reasons"][
        "inherent_uncertainty"]
    assert set(m["uncertainty_pooled"]) >= {"value", "stderr", "method", "n"}


def test_pooled_estimate_is_the_pooled_error_not_the_within_spread(tmp_path):
    # tiny within-measurement spread (gamma = 0.02) and many samples per measurement:
    # neighbours from the same measurement would report about 0.02 N(X|Y)
    exact = ea.make(tmp_path / "p.h5", G=300, M=40, R=2, d=3, gammas=(0.02,), wide=False)
    rep = evaluate(str(tmp_path / "p.h5"), progress=False)
    m = rep["models"]["gamma0.02"]
    ex = exact["models"]["gamma0.02"]
    assert ex["uncertainty_pooled"] / ex["spread"] > 40
    _close(m["uncertainty_pooled"], ex["uncertainty_pooled"], 0.08)


def test_sharded_runs_merged_equal_single_run(archive, single, tmp_path):
    outs = []
    for i in range(3):
        out = tmp_path / f"job{i}"
        assert evaluate(archive[0], outdir=str(out), num_shards=3, shard_index=i,
                        progress=False) is None
        outs.append(str(out))
    assert not os.path.exists(os.path.join(outs[0], "report.json"))
    merged = tmp_path / "merged"
    result = CliRunner().invoke(cli, ["-q", "merge", *outs, "-o", str(merged), "--no-figures"])
    assert result.exit_code == 0, result.output
    assert (merged / "report.json").read_bytes() == (single[0] / "report.json").read_bytes()


def test_units_spread_over_worker_processes_merge_to_the_single_run(archive, single, tmp_path):
    # the multi-GPU path minus the GPUs: one spawned worker per token, each opening
    # the archive itself and writing its parts; the merged report is the single run's
    from hpx_uncert.evaluate.run import prepare, run_units_on_workers
    from hpx_uncert.evaluate.settings import Settings

    ctx = prepare(archive[0], Settings(progress=False))
    parts = tmp_path / "parts"
    parts.mkdir()
    paths = run_units_on_workers(ctx, ctx.units, parts_dir=str(parts), tokens=["0", "1"],
                                 worker_device="cpu")
    assert sorted(paths) == sorted(u.uid for u in ctx.units)
    from hpx_uncert.evaluate.report import write_outputs

    write_outputs(merge_part_files([str(parts)]), str(tmp_path), figures=False)
    assert (tmp_path / "report.json").read_bytes() == (single[0] / "report.json").read_bytes()


def test_resume_recomputes_nothing_and_gives_identical_report(archive, single, tmp_path):
    out = tmp_path / "run"
    evaluate(archive[0], outdir=str(out), num_shards=2, shard_index=0, progress=False)
    done = sorted(os.listdir(out / "parts"))
    mtimes = {f: os.stat(out / "parts" / f).st_mtime_ns for f in done}
    evaluate(archive[0], outdir=str(out), resume=True, progress=False, figures=False)
    records = [json.loads(line) for line in open(out / "run-log.jsonl")]
    skipped = {r["unit"] for r in records if r["status"].startswith("skipped")}
    computed_twice = [r["unit"] for r in records if r["status"] == "computed"]
    assert len(skipped) == len(done) and len(computed_twice) == len(set(computed_twice))
    assert all(os.stat(out / "parts" / f).st_mtime_ns == t for f, t in mtimes.items())
    assert (out / "report.json").read_bytes() == (single[0] / "report.json").read_bytes()


def test_merge_refuses_other_settings_other_archive_and_incomplete_sets(archive, single,
                                                                        tmp_path):
    other = tmp_path / "k4"
    evaluate(archive[0], outdir=str(other), k=4, num_shards=3, shard_index=0, progress=False)
    with pytest.raises(ValueError, match=r"different settings \(k differ\)"):
        merge_part_files([str(single[0]), str(other)])
    ea.make(tmp_path / "b", shards=3, seed=2, **SIZES)
    evaluate(str(tmp_path / "b"), outdir=str(tmp_path / "b-out"), num_shards=3, shard_index=0,
             progress=False)
    with pytest.raises(ValueError, match="different archive contents"):
        merge_part_files([str(single[0]), str(tmp_path / "b-out")])
    with pytest.raises(ValueError, match=r"incomplete: \d+ of \d+ unit\(s\) missing \(.*pool-"):
        merge_part_files([str(tmp_path / "b-out")])


def test_pooled_queries_subsample_is_deterministic(archive, tmp_path):
    a = evaluate(archive[0], pooled_queries=500, progress=False)
    b = evaluate(archive[0], pooled_queries=500, memory_budget="1MB", progress=False)
    assert a["models"]["gamma1"]["uncertainty_pooled"]["n"] == 500
    # another budget changes block boundaries, hence summation order: round-off only
    for name in a["models"]:
        for q, entry in a["models"][name].items():
            if isinstance(entry, dict) and "value" in entry and entry["value"] is not None:
                assert b["models"][name][q]["value"] == pytest.approx(entry["value"], rel=1e-9)
    _close(a["models"]["gamma1"]["uncertainty_pooled"],
           archive[1]["models"]["gamma1"]["uncertainty_pooled"], 0.15)


@pytest.mark.parametrize("args, message", [
    (["evaluate", "/nonexistent/x.h5", "-o", "OUT"], "does not exist"),
    (["evaluate", "ARCH", "-o", "OUT", "--memory-budget", "lots"], "memory_budget must be"),
    (["evaluate", "ARCH", "-o", "OUT", "-k", "0"], "Invalid value"),
    (["evaluate", "ARCH", "-o", "OUT", "-m", "nosuch"], "not in the archive"),
    (["evaluate", "BAD", "-o", "OUT"], "schema v1"),
    (["merge", "/nonexistent/parts", "-o", "OUT"], "no part file or folder"),
])
def test_cli_errors_are_clean(archive, tmp_path, args, message):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not an hdf5 file")
    args = [{"ARCH": archive[0], "OUT": str(tmp_path / "o"), "BAD": str(bad)}.get(a, a)
            for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception) \
        or isinstance(result.exception, SystemExit)
    assert message in result.output


def test_cli_evaluate_writes_report_csv_and_figures(archive, tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(cli, ["evaluate", archive[0], "-o", str(out), "--pooled-queries",
                                      "300"])
    assert result.exit_code == 0, result.output
    rows = (out / "report.csv").read_text().splitlines()
    assert rows[0].startswith("model,uncertainty,uncertainty_stderr")
    assert len(rows) == 1 + 3
    for name in ("up_plane", "uncertainty_distortion", "eta"):
        assert (out / f"{name}.png").stat().st_size > 0 and (out / f"{name}.pdf").exists()


def test_pooled_part_arrays_do_not_grow_with_the_number_of_samples(tmp_path):
    # a pooled unit returns per-jackknife-block statistics: 4x the measurements (and
    # samples) and every sample a query, the same arrays of the same sizes
    from hpx_uncert.evaluate.parts import read_part

    sizes = []
    for G in (30, 120):
        ea.make(tmp_path / f"g{G}.h5", G=G, M=10, R=2, d=2, gammas=(1.0,), wide=False)
        out = tmp_path / f"out{G}"
        rep = evaluate(str(tmp_path / f"g{G}.h5"), outdir=str(out), jackknife_blocks=7,
                       progress=False, figures=False)
        assert rep["models"]["gamma1"]["uncertainty_pooled"]["n"] == G * 10
        pooled = [read_part(p)[0] for p in (out / "parts").glob("pool-*.npz")]
        assert len(pooled) == 1
        sizes.append({name: a.shape for name, a in pooled[0].items()})
    assert sizes[0] == sizes[1]
    assert all(shape == (7,) for shape in sizes[0].values())


def _masked_jackknife(blocks, stat):
    present = np.unique(blocks)
    thetas = np.array([stat(blocks != b) for b in present])
    B = len(thetas)
    return np.sqrt((B - 1) / B * np.sum((thetas - thetas.mean()) ** 2))


def test_block_statistics_give_the_estimates_and_jackknife_of_all_queries(rng):
    # reference: the estimators evaluated on every query with leave-one-block-out
    # masks; the units' statistics are split in two parts and combined
    from scipy.special import digamma, gammaln, logsumexp

    from hpx_uncert.evaluate.merge import (block_statistics, combine_block_statistics,
                                           pooled_perception, pooled_uncertainty)

    n, d, k, B, G, L = 3000, 4, 3, 6, 500, 1
    g = np.sort(rng.integers(0, G, n))
    log_eps, log_rho, log_nu = rng.normal(size=(3, n))
    log_eps[[5, 900]] = -np.inf
    log_rho[17] = log_nu[2000] = -np.inf
    half = n // 3
    parts = [block_statistics(g[s], log_eps[s], log_rho[s], log_nu[s], d=d, n_blocks=B)
             for s in (slice(0, half), slice(half, n))]
    stats = combine_block_statistics(parts)
    unc = pooled_uncertainty(stats, k=k, d=d, G=G, L=L, n_blocks=B, duplicates="drop")
    per = pooled_perception(stats, k=k, d=d, n_blocks=B, duplicates="drop")

    keep = ~np.isneginf(log_eps)
    const = digamma((G - 1) * L + 1) - digamma(k) + d / 2 * np.log(np.pi) - gammaln(d / 2 + 1)

    def h_of(mask):
        return const + d * np.mean(log_eps[keep][mask])

    assert unc["entropy"] == pytest.approx(h_of(np.ones(keep.sum(), bool)), rel=1e-12)
    assert unc["entropy_stderr"] == pytest.approx(_masked_jackknife(g[keep] % B, h_of),
                                                  rel=1e-9)
    assert unc["n"] == n - 2 and unc["zero_radii"] == 2

    keep = ~(np.isneginf(log_rho) | np.isneginf(log_nu))
    terms = 0.5 * d * (log_rho - log_nu)[keep]
    log_b = 2 * gammaln(k) - gammaln(k + 0.5) - gammaln(k - 0.5)

    def d_of(mask):
        return -2.0 * (logsumexp(terms[mask]) - np.log(mask.sum()) + log_b)

    assert per["value"] == pytest.approx(d_of(np.ones(keep.sum(), bool)), rel=1e-12)
    assert per["stderr"] == pytest.approx(_masked_jackknife(g[keep] % B, d_of), rel=1e-9)
    assert per["n"] == n - 2 and per["zero_radii"] == 2
    with pytest.raises(ValueError, match=r"2 of 3000 query points of the pooled errors have "
                                         r"a zero k-th neighbour distance"):
        pooled_uncertainty(stats, k=k, d=d, G=G, L=L, n_blocks=B, duplicates="raise")


def test_region_upper_boundary_when_knn_inherent_exceeds_its_gaussian_bound():
    # N(X|Y) <= N(X_G|Y) in truth; with the k-NN estimate above the Gaussian one the
    # call takes the larger value for the upper boundary and says so
    from hpx_uncert.evaluate.merge import bounds_and_region
    from hpx_uncert.theory import eta

    d, P, n_knn, n_gauss = 4, 0.9, 0.53, 0.51
    on_bound = eta(P, d) * n_knn
    archive_rep = {"inherent_uncertainty": {"value": n_knn, "stderr": 0.002},
                   "inherent_uncertainty_gaussian": {"value": n_gauss, "stderr": 0.002}}
    model = {"perception": {"value": P, "stderr": 0.005},
             "uncertainty": {"value": on_bound, "stderr": 0.002}}
    bounds, region, _ = bounds_and_region(model, archive_rep, d)
    assert region["region"] == "optimal"
    assert "exceeds inherent_uncertainty_gaussian" in bounds["upper_note"]
    assert bounds["upper"] == pytest.approx(eta(P, d) * n_gauss, rel=1e-12)  # reported as is
    model["uncertainty"]["value"] = on_bound * 1.05
    assert bounds_and_region(model, archive_rep, d)[1]["region"] == "suboptimal"
    archive_rep["inherent_uncertainty_gaussian"]["value"] = 0.6
    assert "upper_note" not in bounds_and_region(model, archive_rep, d)[0]
