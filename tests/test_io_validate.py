"""Every schema violation gets a precise problem naming shard, dataset and fix."""

import h5py
import numpy as np
import pytest

from hpx_uncert.io import ArchiveError, open_archive, validate_archive, write_archive


def _good(path, rng, g=4, m=3, d=2, ids=None, **extra):
    with h5py.File(path, "w") as f:
        f.attrs["hpx_uncert_archive"] = 1
        f["truth"] = rng.normal(size=(g, d))
        f["reference"] = rng.normal(size=(g, 5, d))
        f["models/a"] = rng.normal(size=(g, m, d))
        if ids is not None:
            f["ids"] = np.asarray(ids, dtype=np.int64)
        for k, v in extra.items():
            f[k] = v
    return path


def _only(problems, severity="error"):
    chosen = [p for p in problems if p.severity == severity]
    assert len(chosen) == 1, [str(p) for p in problems]
    return chosen[0]


def test_valid_archive_has_no_problems(tmp_path, rng):
    assert validate_archive(_good(tmp_path / "a.h5", rng), k=2) == []


@pytest.mark.parametrize("mutate,dataset,pattern", [
    (lambda f: f.attrs.__delitem__("hpx_uncert_archive"), "/",
     "root attribute 'hpx_uncert_archive' is missing"),
    (lambda f: f.attrs.__setitem__("hpx_uncert_archive", 2), "/",
     "understands schema version 1 only"),
    (lambda f: f.attrs.__setitem__("layout", "movie"), "/", "root attribute 'layout' is 'movie'"),
    (lambda f: f.__delitem__("models"), "models", "no 'models' group"),
    (lambda f: [f.__delitem__("models/a"), f.create_group("models/b")], "models/b",
     "is a group; expected a dataset"),
    (lambda f: [f.__delitem__("truth"), f.create_dataset("truth", data=np.zeros((4, 2, 1)))],
     "truth", r"has shape \(4, 2, 1\) \(rank 3\); layout 'vector' expects rank 2, \(G, d\)"),
    (lambda f: [f.__delitem__("models/a"), f.create_dataset("models/a", data=np.zeros((4, 2)))],
     "models/a", r"layout 'vector' expects rank 3, \(G, M, d\)"),
    (lambda f: f.attrs.__setitem__("layout", "image"), "truth",
     r"layout 'image' expects rank 4, \(G, C, H, W\)"),
    (lambda f: [f.__delitem__("models/a"),
                f.create_dataset("models/a", data=np.zeros((4, 3, 2), dtype=np.uint8))],
     "models/a", "has dtype uint8; samples must be float32 or float64"),
    (lambda f: [f.__delitem__("truth"), f.create_dataset("truth", data=np.zeros((5, 2)))], "/",
     r"disagree on the number of measurements G \(truth: 5, reference: 4, models/a: 4\)"),
    (lambda f: [f.__delitem__("truth"), f.create_dataset("truth", data=np.zeros((4, 3)))], "/",
     r"disagree on the sample shape \(truth: \(3,\), reference: \(2,\)"),
    (lambda f: f.create_dataset("ids", data=np.array([1, 2, 2, 3])), "ids",
     r"holds 1 duplicate id\(s\) within the shard, e.g. \[2\]"),
    (lambda f: f.create_dataset("ids", data=np.zeros(4)), "ids",
     "must be a 1-D integer dataset"),
])
def test_structural_problems(tmp_path, rng, mutate, dataset, pattern):
    path = _good(tmp_path / "a.h5", rng)
    with h5py.File(path, "a") as f:
        mutate(f)
    problems = validate_archive(path)
    problem = _only([p for p in problems if p.dataset == dataset])
    assert problem.shard == str(path)
    assert problem.fix
    assert str(problem).startswith(f"error: {path}: {dataset}: ")
    import re
    assert re.search(pattern, problem.message), problem.message
    with pytest.raises(ArchiveError, match=pattern):
        open_archive(path)


def test_problems_between_shards(tmp_path, rng):
    _good(tmp_path / "s0.h5", rng, ids=[0, 1, 2, 3])
    _good(tmp_path / "s1.h5", rng, d=3, ids=[4, 5, 6, 7])
    _good(tmp_path / "s2.h5", rng, m=4, ids=[3, 8, 9, 10])
    with h5py.File(tmp_path / "s3.h5", "w") as f:
        f.attrs["hpx_uncert_archive"] = 1
        f["models/b"] = np.zeros((2, 3, 2))
        f["ids"] = np.array([11, 12])
    problems = validate_archive(tmp_path)
    text = [str(p) for p in problems]
    assert any("s1.h5: /: sample shape is (3,) (d=3) but the first shard" in t for t in text)
    assert any("s2.h5: models/a: holds M=4 samples per measurement but the first shard has M=3"
               in t for t in text)
    assert any("s2.h5: ids: 1 id(s) also appear in an earlier shard" in t and "[3]" in t
               for t in text)
    assert any("s3.h5: models: model set differs from the first shard" in t
               and "missing ['a'], extra ['b']" in t for t in text)
    assert any("s3.h5: truth: is absent here but present in the first shard" in t for t in text)
    with pytest.raises(ArchiveError, match="problem"):
        open_archive(tmp_path)


def test_nonfinite_values_located(tmp_path, rng):
    path = _good(tmp_path / "a.h5", rng, ids=[10, 11, 12, 13])
    with h5py.File(path, "a") as f:
        f["models/a"][2, 1, 0] = np.nan
        f["models/a"][3, 0, 1] = np.inf
        f["truth"][1, 1] = -np.inf
    problems = validate_archive(path, memory_budget=100)
    assert len(problems) == 2
    model = next(p for p in problems if p.dataset == "models/a")
    assert model.message == ("holds 2 non-finite value(s); first is nan at measurement 2 of the "
                             "shard (global 2, id 12), sample 1, element [0].")
    truth = next(p for p in problems if p.dataset == "truth")
    assert "first is -inf at measurement 1 of the shard (global 1, id 11), element [1]" \
        in truth.message
    # structure is fine, so the archive still opens: values are validate's job
    open_archive(path)


def test_too_few_samples_for_k(tmp_path, rng):
    path = _good(tmp_path / "a.h5", rng, m=3)
    with h5py.File(path, "a") as f:
        f["models/det"] = np.zeros((4, 1, 2))
    problems = validate_archive(path, k=5)
    errors = [p for p in problems if p.severity == "error"]
    assert {p.dataset for p in errors} == {"models/a", "reference"}
    a = next(p for p in errors if p.dataset == "models/a")
    assert a.message == "holds M=3 samples per measurement; k=5 needs at least M=k+1=6."
    assert a.fix == "use k <= 2 or draw at least 6 samples per measurement."
    ref = next(p for p in errors if p.dataset == "reference")
    assert ref.message == "holds R=5 draws per measurement; k=5 needs at least R=k+1=6."
    warning = _only(problems, "warning")
    assert warning.dataset == "models/det" and "deterministic (M=1)" in warning.message
    assert [p for p in validate_archive(path, k=2) if p.severity == "error"] == []
    with pytest.raises(ValueError, match=r"'k' parameter must be an int in the range \[1, inf\)"):
        validate_archive(path, k=0)


def test_checksum_failure_detected(tmp_path, rng):
    data = rng.normal(size=(8, 4, 16))
    path = write_archive(tmp_path / "a.h5", models={"a": data}, fletcher32=True,
                         chunk_measurements=2)
    with h5py.File(path) as f:
        info = f["models/a"].id.get_chunk_info(1)  # measurements [2, 4)
    raw = bytearray(path_bytes := open(path, "rb").read())
    assert len(path_bytes) > info.byte_offset + 40
    raw[info.byte_offset + 24:info.byte_offset + 32] = b"\x00\x11\x22\x33\x44\x55\x66\x77"
    with open(path, "wb") as fh:
        fh.write(raw)
    problem = _only(validate_archive(path))
    assert problem.dataset == "models/a"
    assert problem.message.startswith("cannot be read at measurements [2, 4) (")
    assert "fletcher32" in problem.message.lower() or "checksum" in problem.message.lower()
    assert "re-copy the shard" in problem.fix


def test_truncated_and_foreign_files(tmp_path, rng):
    path = write_archive(tmp_path / "a.h5", models={"a": rng.normal(size=(64, 8, 32))})
    raw = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(raw[:len(raw) // 2])
    (tmp_path / "b.h5").write_text("hello, not HDF5")
    problems = validate_archive(tmp_path)
    assert len(problems) == 2
    for p in problems:
        assert p.dataset == ""
        assert "cannot be opened as an HDF5 file" in p.message and "truncated" in p.message
    with pytest.raises(ArchiveError, match="cannot be opened as an HDF5 file"):
        open_archive(tmp_path)


def test_missing_archive_is_a_problem(tmp_path):
    problem = _only(validate_archive(tmp_path / "none"))
    assert "does not exist" in problem.message
