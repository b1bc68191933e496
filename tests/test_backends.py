"""Device parsing, backend choice and the errors of a machine without a GPU stack."""

import os

import numpy as np
import pytest
from click.testing import CliRunner

import hpx_uncert.backends as backends
from hpx_uncert.backends import (BackendUnavailableError, DeviceSpec, parse_device,
                                 resolve_device)
from hpx_uncert.backends import multi_gpu


@pytest.mark.parametrize("text, want", [
    ("auto", DeviceSpec("auto")),
    ("cpu", DeviceSpec("cpu")),
    (" CPU ", DeviceSpec("cpu")),
    ("cuda", DeviceSpec("cuda", ())),
    ("cuda:0", DeviceSpec("cuda", (0,))),
    ("cuda:0,1", DeviceSpec("cuda", (0, 1))),
    ("cuda: 2, 0", DeviceSpec("cuda", (2, 0))),
])
def test_parse_device(text, want):
    assert parse_device(text) == want
    # the canonical string parses back to the same spec
    assert parse_device(str(want)) == want


@pytest.mark.parametrize("text", ["gpu", "cuda:", "cuda:a", "cuda:0,", "cuda:-1", "tpu:0", ""])
def test_parse_device_rejects(text):
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:<ids>'"):
        parse_device(text)


def test_parse_device_rejects_repeats_and_non_strings():
    with pytest.raises(ValueError, match="lists a GPU more than once"):
        parse_device("cuda:1,1")
    with pytest.raises(ValueError, match="device must be a string.*got 0 of type int"):
        parse_device(0)


def _no_cuda(monkeypatch, reason="the package cupy is not installed"):
    monkeypatch.setattr(backends, "cuda_problem", lambda: reason)


def test_auto_falls_back_to_cpu_without_cuda(monkeypatch, caplog):
    _no_cuda(monkeypatch)
    with caplog.at_level("INFO", logger="hpx_uncert.backends"):
        assert resolve_device("auto") == DeviceSpec("cpu")
    assert "chose cpu (CUDA not usable: the package cupy is not installed)" in caplog.text


def test_auto_picks_all_gpus_when_cuda_works(monkeypatch, caplog):
    monkeypatch.setattr(backends, "cuda_problem", lambda: None)
    monkeypatch.setattr(backends, "_cuda_device_count", lambda: 2)
    with caplog.at_level("INFO", logger="hpx_uncert.backends"):
        assert resolve_device("auto") == DeviceSpec("cuda", (0, 1))
    assert "chose cuda:0,1" in caplog.text
    assert resolve_device("cuda:1") == DeviceSpec("cuda", (1,))
    with pytest.raises(BackendUnavailableError, match=r"ordinal\(s\) \[2\] but only 2 GPU"):
        resolve_device("cuda:0,2")


def test_explicit_cuda_without_stack_names_the_fix(monkeypatch):
    _no_cuda(monkeypatch)
    with pytest.raises(BackendUnavailableError,
                       match=r"CUDA is not usable here: the package cupy is not installed\. "
                             r"To fix it, install the GPU extra with `pip install "
                             r"'hpx_uncert\[gpu\]'`.*CUDA driver"):
        resolve_device("cuda:0")


def test_cuda_probe_reports_missing_cupy_here():
    # this machine has no cupy: the real probe must say so rather than crash
    from hpx_uncert.backends import cuda

    if cuda.unavailable_reason() is None:
        pytest.skip("a working CUDA stack is present")
    assert backends.available_backends()["cpu"] is None
    assert isinstance(backends.available_backends()["cuda"], str)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'hpx_uncert\[gpu\]'"):
        cuda.knn_distances_cuda(np.zeros((4, 2)), k=1)


def test_cuda_knn_validates_before_touching_the_device():
    from hpx_uncert.backends.cuda import knn_distances_cuda

    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="'k' parameter must be smaller than the number"):
        knn_distances_cuda(x, k=4)
    with pytest.raises(ValueError, match="method must be one of 'auto', 'cupy', 'faiss-gpu'"):
        knn_distances_cuda(x, k=1, method="tree")
    with pytest.raises(ValueError, match="data_labels was given for a self-search"):
        knn_distances_cuda(x, k=1, data_labels=np.arange(4))


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, hpx_uncert.backends, hpx_uncert.backends.cuda, "
            "hpx_uncert.backends.multi_gpu; "
            "print(sorted(m for m in ('cupy', 'numba', 'faiss') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_devices_command_lists_backends(monkeypatch):
    from hpx_uncert.cli.main import cli

    _no_cuda(monkeypatch, "no usable CUDA driver (test)")
    monkeypatch.setattr("hpx_uncert.backends.cuda.numba_cuda_problem", lambda: "none here")
    result = CliRunner().invoke(cli, ["devices"])
    assert result.exit_code == 0, result.output
    assert "cpu    available" in result.output
    assert "cuda   unavailable: no usable CUDA driver (test)" in result.output
    assert "device='auto' resolves to cpu" in result.output
    result = CliRunner().invoke(cli, ["devices", "--json"])
    import json

    info = json.loads(result.output)
    assert info["backends"]["cuda"] == {"available": False,
                                       "reason": "no usable CUDA driver (test)"}
    assert info["gpus"] == [] and info["auto"] == "cpu"


# --- multi-GPU helper (spawned workers; no GPU needed for the distribution logic) ---

def _report_device(task):
    if task == "boom":
        raise ValueError("task says boom")
    return task * 10, os.environ["CUDA_VISIBLE_DEVICES"], os.environ[multi_gpu.SLOT_ENV]


@pytest.mark.parametrize("env, want", [
    ("0,1", ["0", "1"]), ("2", ["2"]), ("GPU-aa,GPU-bb", ["GPU-aa", "GPU-bb"]),
    ("1,-1,2", ["1"]), ("", []),
])
def test_visible_gpus_follows_cuda_visible_devices(monkeypatch, env, want):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", env)
    assert multi_gpu.visible_gpus() == want


def test_gpus_for_maps_ordinals_to_visible_tokens(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6,7")
    assert multi_gpu.gpus_for("cuda") == ["4", "6", "7"]
    assert multi_gpu.gpus_for("cuda:2,0") == ["7", "4"]
    with pytest.raises(BackendUnavailableError, match=r"ordinal\(s\) \[3\].*\['4', '6', '7'\]"):
        multi_gpu.gpus_for("cuda:3")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(BackendUnavailableError, match="no GPU is visible"):
        multi_gpu.gpus_for("cuda")


def test_run_on_gpus_one_worker_per_gpu_results_in_task_order(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    tasks = list(range(7))
    out = multi_gpu.run_on_gpus(_report_device, tasks, devices="cuda")
    assert [r[0] for r in out] == [t * 10 for t in tasks]
    # each worker saw exactly one GPU token, and its slot matches it
    assert {(r[1], r[2]) for r in out} <= {("3", "0"), ("5", "1")}
    # the parent's environment is untouched
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3,5"
    assert multi_gpu.SLOT_ENV not in os.environ


def test_run_on_gpus_reports_a_failing_task():
    with pytest.raises(RuntimeError, match=r"task 1 failed in a GPU worker:(.|\n)*"
                                           r"ValueError: task says boom"):
        multi_gpu.run_on_gpus(_report_device, [1, "boom", 2], devices=["0"])
    assert multi_gpu.run_on_gpus(_report_device, [], devices=["0"]) == []


def test_cli_device_cuda_without_stack_is_a_clean_error(monkeypatch, tmp_path, rng):
    from hpx_uncert.cli.main import cli

    pytest.importorskip("hpx_uncert.cli.evaluate_cmd")
    from hpx_uncert.io import write_archive

    truth = rng.normal(size=(6, 3))
    path = write_archive(tmp_path / "a.h5", truth=truth,
                         models={"m": truth[:, None, :] + rng.normal(size=(6, 12, 3))})
    _no_cuda(monkeypatch, "no usable CUDA driver (test)")
    result = CliRunner().invoke(cli, ["evaluate", str(path), "-o", str(tmp_path / "out"),
                                      "--device", "cuda"])
    assert result.exit_code != 0
    assert "CUDA is not usable here: no usable CUDA driver (test)" in result.output
    assert "pip install 'hpx_uncert[gpu]'" in result.output
    assert "Traceback" not in result.output
