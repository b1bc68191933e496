"""The inspect / validate / synth commands: exit codes, listed problems, no tracebacks."""

import json

import h5py
import numpy as np
from click.testing import CliRunner

from hpx_uncert.cli.main import cli


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_synth_inspect_validate_round_trip(tmp_path):
    out = tmp_path / "lg.h5"
    res = _run("synth", "linear-gaussian", "-o", out, "-G", 20, "-M", 6, "-R", 7, "-d", 3,
               "--gammas", "0.5,1", "--compression", "lzf", "--fletcher32")
    assert res.exit_code == 0, res.output
    answers = json.loads((tmp_path / "lg.truth.json").read_text())
    assert set(answers["models"]) == {"gamma_0.5", "gamma_1", "mmse", "isotropic"}
    res = _run("inspect", out)
    assert res.exit_code == 0, res.output
    assert "measurements  20 in 1 shard(s)" in res.output
    assert "R = 7 per measurement" in res.output
    assert any(line.split()[:2] == ["gamma_0.5", "6"] and "lzf,fletcher32" in line
               for line in res.output.splitlines())
    res = _run("inspect", out, "--json")
    info = json.loads(res.output)
    assert info["d"] == 3 and info["models"]["mmse"]["samples"] == 1
    res = _run("validate", out, "-k", 5)
    assert res.exit_code == 0 and "valid schema v1 archive (1 warning(s))" in res.output


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f.attrs["hpx_uncert_archive"] = 1
        x = np.zeros((3, 2, 2))
        x[1, 1, 0] = np.nan
        f["models/a"] = x
        f["truth"] = np.zeros((4, 2))
    with h5py.File(tmp_path / "b.h5", "w") as f:
        f["models/a"] = np.zeros((3, 2, 2))
    res = _run("validate", tmp_path, "-k", 3)
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "a.h5: /: datasets disagree on the number of measurements G (truth: 4, models/a: 3)" \
        in res.output
    assert "a.h5: models/a: holds M=2 samples per measurement; k=3 needs at least M=k+1=4." \
        in res.output
    assert "a.h5: models/a: holds 1 non-finite value(s); first is nan at measurement 1" \
        in res.output
    assert "b.h5: /: root attribute 'hpx_uncert_archive' is missing" in res.output
    assert "INVALID, 4 error(s)" in res.output


def test_inspect_errors_are_clean(tmp_path):
    res = _run("inspect", tmp_path / "missing.h5")
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["models/a"] = np.zeros((3, 2, 2))
    res = _run("inspect", tmp_path / "bad.h5")
    assert res.exit_code == 1 and "root attribute 'hpx_uncert_archive' is missing" in res.output
    res = _run("synth", "linear-gaussian", "-o", tmp_path / "x.h5", "--gammas", "a,b")
    assert res.exit_code == 2 and "comma-separated numbers" in res.output
    res = _run("synth", "linear-gaussian", "-o", tmp_path / "x.h5", "--gammas", "0")
    assert res.exit_code == 1 and "gammas must be positive" in res.output


def test_synth_images_and_mixture_shards(tmp_path):
    res = _run("synth", "images", "-o", tmp_path / "img", "-G", 6, "-M", 2, "--tile", 16,
               "--shards", 2, "--float32")
    assert res.exit_code == 0, res.output
    res = _run("inspect", tmp_path / "img")
    assert "layout        image  sample shape (1, 16, 16)" in res.output
    assert "shard-00001.h5" in res.output
    res = _run("synth", "mixture", "-o", tmp_path / "gm.h5", "-G", 10, "-M", 4, "-R", 4, "-d", 2)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "gm.truth.json").read_text())["kind"] == "gaussian_mixture"
