"""hpx_uncert.plots: files are written, drawn boundaries follow the theory."""

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from hpx_uncert import theory as th
from hpx_uncert.plots import plot_eta, plot_uncertainty_distortion, plot_up_plane, save_figure


def _gamma_models(d, n_inherent):
    out = []
    for g in (0.1, 0.25, 0.5, 1.0):
        out.append(dict(name=f"gamma={g}", perception=th.gamma_family_perception(g, d),
                        perception_stderr=0.1, uncertainty=th.gamma_family_uncertainty(g, n_inherent),
                        uncertainty_stderr=0.01, mse=(1 + g) * 1.1 * n_inherent, mse_stderr=0.01))
    return out


def _collection(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def _legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_up_plane_impossible_boundary_is_eta_times_inherent(tmp_path):
    d, N, NG = 16, 0.3, 0.34
    ax = plot_up_plane(_gamma_models(d, N), d=d, n_inherent=N, n_gaussian=NG)
    verts = _collection(ax, "impossible").get_paths()[0].vertices
    top = verts[verts[:, 1] > 0]
    assert len(top) > 100
    np.testing.assert_allclose(top[:, 1], th.eta(top[:, 0], d) * N, rtol=1e-12)
    band = _collection(ax, "optimal").get_paths()[0].vertices
    on_upper = np.isclose(band[:, 1], th.eta(band[:, 0], d) * NG, rtol=1e-12)
    on_lower = np.isclose(band[:, 1], th.eta(band[:, 0], d) * N, rtol=1e-12)
    assert np.all(on_upper | on_lower) and on_upper.sum() > 100
    # the axis reaches the knee and every point
    assert ax.get_xlim()[1] >= max(m["perception"] for m in _gamma_models(d, N))
    written = save_figure(ax.figure, tmp_path / "sub" / "up")
    assert [p.suffix for p in written] == [".png", ".pdf"]
    assert all(p.stat().st_size > 1000 for p in written)
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written[1].read_bytes()[:5] == b"%PDF-"


def test_up_plane_region_labels_follow_classify_region():
    d, N = 16, 0.3
    models = [dict(name="above", perception=2.0, uncertainty=0.9, uncertainty_stderr=0.01),
              dict(name="below", perception=2.0, uncertainty=0.2, uncertainty_stderr=0.01)]
    labels = _legend_labels(plot_up_plane(models, d=d, n_inherent=N, n_gaussian=N))
    assert "above  [suboptimal]" in labels
    assert "below  [impossible]" in labels


def test_up_plane_hellinger_boundary():
    d, N = 8, 0.5
    models = [dict(name="m", perception=0.3, uncertainty=0.8)]
    ax = plot_up_plane(models, d=d, n_inherent=N, n_gaussian=0.6, divergence="hellinger2")
    verts = _collection(ax, "impossible").get_paths()[0].vertices
    top = verts[verts[:, 1] > 0]
    np.testing.assert_allclose(top[:, 1], th.eta_hellinger(top[:, 0], d) * N, rtol=1e-12)
    assert ax.get_xlim() == (0.0, 1.0)


def test_up_plane_infinite_and_missing_perception_do_not_crash(tmp_path):
    d, N = 16, 0.3
    models = _gamma_models(d, N) + [
        dict(name="mmse", perception=math.inf, uncertainty=0.31, uncertainty_stderr=0.01),
        dict(name="unknown", perception=None, uncertainty=0.5),
        dict(name="empty", perception=1.0, uncertainty=None),
        dict(name="nan", perception=float("nan"), uncertainty=0.45),
    ]
    ax = plot_up_plane(models, d=d, n_inherent=N, n_gaussian=N)
    labels = _legend_labels(ax)
    assert any(s.startswith("mmse  (P = inf)") for s in labels)
    assert "unknown  (perception not measured)" in labels
    assert "nan  (perception not measured)" in labels
    assert "empty" in ax.get_legend().get_title().get_text()
    # the deterministic model sits right of every finite point, under an infinity tick
    tick_labels = [t.get_text() for t in ax.get_xticklabels()]
    assert tick_labels[-1] == r"$\infty$"
    assert all(np.all(np.isfinite(line.get_xydata())) for line in ax.lines)
    written = save_figure(ax.figure, tmp_path / "inf")
    assert all(p.stat().st_size > 1000 for p in written)


def test_up_plane_accepts_estimates():
    from hpx_uncert import Estimate

    u = Estimate(0.5, 0.02, n=10, d=4)
    ax = plot_up_plane([dict(name="e", perception=Estimate(1.0, 0.1, n=10, d=4), uncertainty=u)],
                       d=4, n_inherent=0.2, n_gaussian=0.25)
    (bars,) = [c for c in ax.containers]
    assert bars.lines[0].get_ydata()[0] == 0.5


def test_up_plane_errors():
    with pytest.raises(ValueError, match=r"model 0 \('a'\) lacks 'uncertainty'"):
        plot_up_plane([dict(name="a", perception=1.0)], d=4, n_inherent=0.2, n_gaussian=0.2)
    with pytest.raises(ValueError, match=r"model 0 has no 'name'"):
        plot_up_plane([dict(perception=1.0, uncertainty=1.0)], d=4, n_inherent=0.2,
                      n_gaussian=0.2)
    with pytest.raises(TypeError, match=r"got a single dict. Wrap it in a list"):
        plot_up_plane(dict(name="a", perception=1.0, uncertainty=1.0), d=4, n_inherent=0.2,
                      n_gaussian=0.2)
    with pytest.raises(ValueError, match=r"divergence must be one of"):
        plot_up_plane([], d=4, n_inherent=0.2, n_gaussian=0.2, divergence="kl")


def test_uncertainty_distortion_shades_below_diagonal(tmp_path):
    models = [dict(name="ok", uncertainty=0.4, mse=0.5, mse_stderr=0.01),
              dict(name="bad", uncertainty=0.4, mse=0.2, mse_stderr=0.01,
                   uncertainty_stderr=0.01),
              dict(name="missing", uncertainty=None, mse=0.3)]
    ax = plot_uncertainty_distortion(models, n_inherent=0.3)
    verts = _collection(ax, "infeasible").get_paths()[0].vertices
    # every vertex of the shaded set satisfies MSE <= uncertainty (Theorem 4's violation side)
    assert np.all(verts[:, 1] <= verts[:, 0] + 1e-12)
    assert verts[:, 0].max() >= 0.5
    labels = _legend_labels(ax)
    assert "ok  [ok]" in labels and "bad  [violates Thm 4]" in labels
    assert "missing" in ax.get_legend().get_title().get_text()
    written = save_figure(ax.figure, tmp_path / "ud")
    assert all(p.stat().st_size > 1000 for p in written)


def test_eta_curves_follow_eta(tmp_path):
    ax = plot_eta((1, 64, 2048), P_max=5.0)
    for d in (1, 64, 2048):
        (line,) = [ln for ln in ax.lines if ln.get_gid() == f"eta_d{d}"]
        x, y = line.get_xdata(), line.get_ydata()
        assert x[0] == 0.0 and y[0] == 2.0 and x[-1] == 5.0
        np.testing.assert_allclose(y, th.eta(x, d), rtol=1e-14)
    written = save_figure(ax.figure, tmp_path / "eta")
    assert all(p.stat().st_size > 1000 for p in written)
    axh = plot_eta((4,), divergence="hellinger2")
    (line,) = [ln for ln in axh.lines if ln.get_gid() == "eta_d4"]
    assert line.get_ydata()[-1] == 1.0
    with pytest.raises(ValueError, match=r"P_max must be in \(0, 1\] for divergence='hellinger2'"):
        plot_eta((4,), P_max=2.0, divergence="hellinger2")


def test_save_figure_rejects_suffix(tmp_path):
    ax = plot_eta((2,))
    with pytest.raises(ValueError, match=r"must not end in a file type.*Pass '.*fig'"):
        save_figure(ax.figure, tmp_path / "fig.png")


def test_importing_plots_does_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, hpx_uncert.plots, hpx_uncert.theory; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
