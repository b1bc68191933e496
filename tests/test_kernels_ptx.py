"""Ahead-of-time checks of the CUDA sources: nvcc PTX (skipped without nvcc), names, packaging."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from hpx_uncert.backends.cuda import module

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("compile_kernels", ROOT / "tools" / "compile_kernels.py")
compile_kernels = importlib.util.module_from_spec(spec)
sys.modules["compile_kernels"] = compile_kernels
spec.loader.exec_module(compile_kernels)

needs_nvcc = pytest.mark.skipif(compile_kernels.find_nvcc(None) is None, reason="nvcc not found")


@needs_nvcc
def test_every_kernel_source_compiles_to_ptx_with_the_names_the_host_uses(tmp_path, capsys):
    assert compile_kernels.main(["--arch", "sm_90", "--out", str(tmp_path)]) == 0
    ptx = (tmp_path / "knn_select.sm_90.ptx").read_text()
    entries = re.findall(r"\.entry\s+(\S+?)\(", ptx)
    # one instantiation per capacity the loader may ask for (Itanium mangling ILi<K>E)
    for capacity in module.SELECT_CAPACITIES:
        assert any("select_topk_tile" in e and f"ILi{capacity}E" in e for e in entries), capacity
    assert len(entries) == len(module.SELECT_CAPACITIES)
    assert "1/1 compiled" in capsys.readouterr().out


@needs_nvcc
def test_a_compile_error_fails_the_check(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken.cu").write_text("__global__ void k(float* x) { x[0] = undefined_name; }\n")
    monkeypatch.setattr(compile_kernels, "KERNELS", tmp_path)
    assert compile_kernels.main(["--arch", "sm_90", "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "FAIL broken.cu [sm_90]" in out and "undefined_name" in out


def test_missing_nvcc_is_a_clean_skip(monkeypatch, capsys):
    monkeypatch.setattr(compile_kernels, "find_nvcc", lambda explicit: None)
    assert compile_kernels.main([]) == 0
    assert "nvcc not found, skipped" in capsys.readouterr().out


def test_kernel_sources_ship_inside_the_package():
    # kernels/ is the package hpx_uncert._kernels: the loader finds the sources there
    names = {p.name for p in module.kernel_dir().iterdir()}
    assert {"knn_select.cu", "topk_common.cuh"} <= names
    assert "select_topk_tile" in module.kernel_source("knn_select.cu")
    with pytest.raises(FileNotFoundError, match="'missing.cu' is missing"):
        module.kernel_source("missing.cu")


def test_selection_capacity_lookup():
    assert [module.select_capacity(kc) for kc in (1, 8, 9, 33, 64, 65)] == [8, 8, 16, 64, 64, None]
    with pytest.raises(ValueError, match="at most 64 candidates per query; got kc=65"):
        module.select_kernel(65)


def test_numba_group_kernels_compile_to_ptx():
    # typing and lowering of the numba.cuda kernels (the simulator checks neither);
    # needs NVRTC from a CUDA toolkit, present on GPU machines
    from numba import boolean, cuda, float64, int64

    from hpx_uncert.backends.cuda import groups

    try:
        cuda.compile_ptx(lambda a: None, (float64[:],), cc=(9, 0))
    except Exception as exc:  # no NVRTC/NVVM library here
        pytest.skip(f"numba.cuda cannot compile here: {type(exc).__name__}")
    knn = groups._group_knn_kernel(8).py_func
    ptx, _ = cuda.compile_ptx(knn, (float64[:, :], int64[:], float64[:, :], int64[:], int64,
                                    boolean, float64[:, :]), cc=(9, 0))
    assert ".entry" in ptx
    reduce = groups._reduction_kernel().py_func
    ptx, _ = cuda.compile_ptx(reduce, (float64[:, :], int64[:], int64, int64, int64, boolean,
                                       float64[:], int64[:], float64[:]), cc=(9, 0))
    assert ".entry" in ptx
