"""`hpx-uncert bench` entry point and the benchmark harness's own measurements."""

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpx_uncert.cli import bench_cmd
from hpx_uncert.cli.main import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import common  # noqa: E402


def test_unknown_suite_is_a_usage_error():
    result = CliRunner().invoke(cli, ["bench", "speed"])
    assert result.exit_code == 2
    assert "'speed' is not one of" in result.output


def test_missing_benchmarks_folder_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(bench_cmd, "benchmarks_dir", lambda: tmp_path / "nowhere")
    result = CliRunner().invoke(cli, ["bench", "roofline"])
    assert result.exit_code == 1
    assert "ship with the source tree" in result.output


def test_child_reports_the_memory_it_allocated():
    # 200 MiB touched inside the timed call: the high-water mark must see it
    res = common.run_child("common:probe_allocation", timeout=120, mib=200)
    assert "error" not in res, res
    assert 195 <= res["working_mib"] < 260
    assert res["out"] == 1.0 and res["seconds"] > 0


def test_child_past_its_time_cap_is_stopped():
    res = common.run_child("common:probe_allocation", timeout=3, mib=1, sleep=60)
    assert res["timed_out"] is True
    assert res["error"].startswith("timed out after 3 s")
    assert res["wall_seconds"] < 30


def test_markdown_table_aligns_columns():
    text = common.markdown_table(["a", "long header"], [[1.23456, None], ["x", 1234.5]])
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[2].startswith("| 1.23 ") and lines[3].split("|")[2].strip() == "1234"


@pytest.mark.parametrize("quick,expected", [(True, ["--quick"]), (False, [])])
def test_suite_options_forward_quick_and_output(tmp_path, quick, expected):
    opts = bench_cmd._options_for("scaling", tmp_path / "scaling.py", quick, tmp_path, None)
    assert opts[:2] == ["--out", str(tmp_path)] and opts[2:] == expected
