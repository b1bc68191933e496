"""Archive round trips, plain-h5py archives, block iteration and fingerprints."""

import os

import h5py
import numpy as np
import pytest

from hpx_uncert.io import (ArchiveError, ArchiveWriter, open_archive, parse_memory_budget,
                           write_archive)


def _fields(rng, g=7, m=5, r=6, shape=(4,), dtype=np.float64):
    return dict(truth=rng.normal(size=(g, *shape)).astype(dtype),
                reference=rng.normal(size=(g, r, *shape)).astype(dtype),
                models={"stoch": rng.normal(size=(g, m, *shape)).astype(dtype),
                        "mmse": rng.normal(size=(g, 1, *shape)).astype(dtype)},
                ids=np.arange(g, dtype=np.int64) * 3 + 11,
                measurement=rng.normal(size=(g, 2)))


@pytest.mark.parametrize("layout,shape", [("vector", (4,)), ("image", (2, 5, 3))])
@pytest.mark.parametrize("options", [dict(), dict(compression="gzip", fletcher32=True),
                                     dict(compression="lzf", chunk_measurements=2),
                                     dict(chunk_measurements=0)])
def test_round_trip_all_fields(tmp_path, rng, layout, shape, options):
    data = _fields(rng, shape=shape)
    path = write_archive(tmp_path / "a.h5", layout=layout, attrs={"data_range": 1.0}, **data,
                         **options)
    arch = open_archive(path)
    assert arch.layout == layout and arch.sample_shape == shape
    assert arch.d == int(np.prod(shape))
    assert arch.num_measurements == 7 and arch.num_reference == 6
    assert arch.samples_per_model == {"mmse": 1, "stoch": 5}
    assert arch.has_truth and arch.has_reference and arch.has_ids and arch.has_measurement
    np.testing.assert_array_equal(arch.read("truth"), data["truth"])
    np.testing.assert_array_equal(arch.read("reference"), data["reference"])
    for name, arr in data["models"].items():
        np.testing.assert_array_equal(arch.read(f"models/{name}"), arr)
    np.testing.assert_array_equal(arch.read("measurement"), data["measurement"])
    np.testing.assert_array_equal(arch.ids(), data["ids"])
    assert arch.attrs["data_range"] == 1.0
    with h5py.File(path) as f:
        ds = f["models/stoch"]
        assert ds.compression == options.get("compression")
        assert ds.fletcher32 == options.get("fletcher32", False)
        if options.get("chunk_measurements") == 0:
            assert ds.chunks is None
        else:
            assert ds.chunks[1:] == ds.shape[1:]  # chunks hold whole measurements
    assert os.listdir(tmp_path) == ["a.h5"]  # no temporary file left behind


def test_float32_kept_and_dtype_option(tmp_path, rng):
    data = _fields(rng, dtype=np.float32)
    arch = open_archive(write_archive(tmp_path / "a.h5", **data))
    assert arch.read("truth").dtype == np.float32
    arch = open_archive(write_archive(tmp_path / "b.h5", dtype=np.float64, **data))
    assert arch.read("models/stoch").dtype == np.float64


def test_plain_h5py_archive_from_the_docs(tmp_path, monkeypatch):
    # runs the ten-line example of docs/archive.md as printed there, without hpx_uncert
    doc = open(os.path.join(os.path.dirname(__file__), "..", "docs", "archive.md")).read()
    section = doc[doc.index("## The ten-line version"):]
    code = section[section.index("```python") + len("```python"):section.index("```\n", 10)]
    assert "import hpx_uncert" not in code and "from hpx_uncert" not in code
    assert len(code.strip().splitlines()) <= 10
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(code, scope)
    x, G, M, d = scope["x"], scope["G"], scope["M"], scope["d"]
    arch = open_archive(tmp_path / "mine.h5")
    assert arch.models == ("my_regressor", "my_sampler")
    assert arch.samples_per_model == {"my_regressor": 1, "my_sampler": M}
    assert arch.d == d and arch.num_measurements == G and not arch.has_reference
    np.testing.assert_array_equal(arch.ids(), np.arange(G))
    got = np.concatenate([b.truth for b in arch.iter_blocks(memory_budget="1MB")])
    np.testing.assert_array_equal(got, x)
    from hpx_uncert.io import validate_archive
    problems = validate_archive(tmp_path / "mine.h5", k=5)
    assert [(p.severity, p.dataset) for p in problems] == [("warning", "models/my_regressor")]


def _write_shards(folder, rng, sizes, m=3, d=2):
    truths = []
    offset = 0
    for i, g in enumerate(sizes):
        t = rng.normal(size=(g, d))
        write_archive(folder / f"shard-{i:03d}.h5", truth=t,
                      models={"a": rng.normal(size=(g, m, d))},
                      ids=np.arange(offset, offset + g) * 10)
        truths.append(t)
        offset += g
    return np.concatenate(truths)


def test_directory_and_glob_in_name_order(tmp_path, rng):
    truth = _write_shards(tmp_path, rng, [5, 3, 4])
    (tmp_path / "notes.txt").write_text("not a shard")
    for target in (tmp_path, str(tmp_path / "shard-*.h5")):
        arch = open_archive(target)
        assert [os.path.basename(p) for p in arch.shards] == [
            "shard-000.h5", "shard-001.h5", "shard-002.h5"]
        np.testing.assert_array_equal(arch.offsets, [0, 5, 8, 12])
        np.testing.assert_array_equal(arch.read("truth"), truth)


def test_missing_paths_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_archive(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match=r"holds no \*\.h5 shards"):
        open_archive(tmp_path)
    with pytest.raises(FileNotFoundError, match="matches no files"):
        open_archive(str(tmp_path / "*.h5"))


def test_blocks_cover_every_measurement_once_under_tiny_budget(tmp_path, rng):
    truth = _write_shards(tmp_path, rng, [5, 1, 7], m=4, d=3)
    arch = open_archive(tmp_path)
    per_measurement = (3 + 4 * 3) * 8
    seen = []
    for block in arch.iter_blocks(memory_budget=2 * per_measurement + 5):
        assert 1 <= len(block) <= 2
        assert sum(a.nbytes for a in block.arrays.values()) <= 2 * per_measurement + 5
        assert block.stop - block.start == block.local_stop - block.local_start
        assert block.start == arch.offsets[block.shard] + block.local_start
        np.testing.assert_array_equal(block.truth, truth[block.start:block.stop])
        np.testing.assert_array_equal(block.ids, np.arange(block.start, block.stop) * 10)
        assert block.models["a"].shape == (len(block), 4, 3)
        seen.extend(range(block.start, block.stop))
    assert seen == list(range(13))
    # one shard at a time, as a worker would
    assert [b.start for b in arch.iter_blocks(shards=[2], memory_budget=10**6)] == [6]
    with pytest.raises(ValueError, match="cannot hold one measurement"):
        next(arch.iter_blocks(memory_budget=10))


def test_blocks_align_with_chunks(tmp_path, rng):
    data = _fields(rng, g=40)
    arch = open_archive(write_archive(tmp_path / "a.h5", chunk_measurements=4, **data))
    per = arch.measurement_nbytes(["models/stoch"])
    sizes = [len(b) for b in arch.iter_blocks(fields=["models"], models=["stoch"],
                                               memory_budget=11 * per)]
    assert sizes == [8] * 5  # 11 fit, rounded down to two whole chunks


def test_field_selection(tmp_path, rng):
    arch = open_archive(write_archive(tmp_path / "a.h5", **_fields(rng)))
    block = next(arch.iter_blocks(fields=["models"], models=["mmse"]))
    assert set(block.arrays) == {"models/mmse"} and block.truth is None
    with pytest.raises(ValueError, match=r"unknown model\(s\) \['x'\]"):
        next(arch.iter_blocks(models=["x"]))
    with pytest.raises(ValueError, match="unknown field 'bogus'"):
        next(arch.iter_blocks(fields=["bogus"]))
    plain = open_archive(write_archive(tmp_path / "b.h5", models={"a": np.ones((2, 2, 2))}))
    with pytest.raises(ValueError, match="the archive has no 'truth' field"):
        next(plain.iter_blocks(fields=["truth"]))


def test_incremental_writer_matches_one_shot(tmp_path, rng):
    data = _fields(rng, g=9)
    with ArchiveWriter(tmp_path / "inc.h5", compression="lzf", chunk_measurements=2) as w:
        for lo in range(0, 9, 4):
            sl = slice(lo, lo + 4)
            w.append(truth=data["truth"][sl], reference=data["reference"][sl],
                     models={k: v[sl] for k, v in data["models"].items()}, ids=data["ids"][sl])
        assert not os.path.exists(tmp_path / "inc.h5")  # invisible until close
    arch = open_archive(tmp_path / "inc.h5")
    np.testing.assert_array_equal(arch.read("reference"), data["reference"])
    np.testing.assert_array_equal(arch.read("models/stoch"), data["models"]["stoch"])
    np.testing.assert_array_equal(arch.ids(), data["ids"])


def test_writer_failure_leaves_previous_file(tmp_path, rng):
    target = tmp_path / "a.h5"
    write_archive(target, models={"a": np.zeros((2, 2, 2))})
    before = target.read_bytes()
    with pytest.raises(ValueError, match="every block must hold the same fields"):
        with ArchiveWriter(target) as w:
            w.append(models={"a": np.ones((2, 2, 2))})
            w.append(models={"a": np.ones((2, 2, 2))}, truth=np.ones((2, 2)))
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["a.h5"]


def test_writer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"models/a must have rank 3"):
        write_archive(tmp_path / "a.h5", models={"a": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"models/a must have rank 5 .* for layout 'image'"):
        write_archive(tmp_path / "a.h5", layout="image", models={"a": np.zeros((2, 3, 4))})
    with pytest.raises(ValueError,
                       match=r"models/a has samples of shape \(4,\) but other fields have \(3,\)"):
        write_archive(tmp_path / "a.h5", models={"a": np.zeros((2, 1, 4))}, truth=np.zeros((2, 3)))
    bad = np.zeros((2, 1, 2))
    bad[1, 0, 1] = np.nan
    with pytest.raises(ValueError, match=r"models/a contains NaN .* \[1, 0, 1\]"):
        write_archive(tmp_path / "a.h5", models={"a": bad})
    with pytest.raises(TypeError, match="must hold floats"):
        write_archive(tmp_path / "a.h5", models={"a": np.zeros((2, 1, 2), dtype=np.uint8)})
    with pytest.raises(ValueError, match=r"fields disagree on the number of measurements"):
        write_archive(tmp_path / "a.h5", models={"a": np.zeros((2, 1, 2))}, truth=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="contiguous storage"):
        write_archive(tmp_path / "a.h5", models={"a": np.zeros((2, 1, 2))}, chunk_measurements=0,
                      compression="gzip")
    with pytest.raises(ValueError, match="compression must be one of"):
        write_archive(tmp_path / "a.h5", models={"a": np.zeros((2, 1, 2))}, compression="zstd")
    with pytest.raises(ValueError, match="nothing was appended"):
        ArchiveWriter(tmp_path / "b.h5").close()
    assert not list(tmp_path.iterdir())


def test_fingerprint_tracks_content_not_copies(tmp_path, rng):
    data = _fields(rng)
    a = write_archive(tmp_path / "x" / "s.h5", **data)
    b = write_archive(tmp_path / "y" / "s.h5", **data)
    os.utime(b, (1, 1))
    fa, fb = open_archive(a).fingerprint(), open_archive(b).fingerprint()
    assert fa == fb and len(fa) == 64
    assert open_archive(a).fingerprint(full=True) == open_archive(b).fingerprint(full=True)
    data["models"]["stoch"][-1, 0, 0] += 1.0
    c = write_archive(tmp_path / "z" / "s.h5", **data)
    assert open_archive(c).fingerprint() != fa
    data["models"]["stoch"][-1, 0, 0] -= 1.0
    data["reference"][2, 0, 0] += 1.0  # away from first/middle/last: only the full hash sees it
    e = write_archive(tmp_path / "w" / "s.h5", **data)
    assert open_archive(e).fingerprint(full=True) != open_archive(a).fingerprint(full=True)


def test_archive_is_picklable_without_open_files(tmp_path, rng):
    import pickle
    arch = open_archive(write_archive(tmp_path / "a.h5", **_fields(rng)))
    clone = pickle.loads(pickle.dumps(arch))
    np.testing.assert_array_equal(clone.read("truth"), arch.read("truth"))


def test_open_rejects_structural_problems(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["models/a"] = np.zeros((2, 2, 2))
    with pytest.raises(ArchiveError, match="root attribute 'hpx_uncert_archive' is missing"):
        open_archive(tmp_path / "a.h5")


@pytest.mark.parametrize("text,expected", [(1024, 1024), ("512MB", 512 * 2**20),
                                           ("2 GiB", 2 * 2**30), ("1.5k", 1536)])
def test_parse_memory_budget(text, expected):
    assert parse_memory_budget(text) == expected


def test_parse_memory_budget_rejects_nonsense():
    with pytest.raises(ValueError, match="like '512MB'"):
        parse_memory_budget("lots")
    with pytest.raises(ValueError, match="must be positive"):
        parse_memory_budget(0)
