"""Open an archive (one shard, a folder of shards or a glob) and read it in blocks.

An :class:`Archive` holds paths and metadata only, never an open file: every
reader (each process of a pool, each MPI rank) opens the shards it reads itself,
because h5py serialises all threads of a process behind one lock and HDF5 file
handles do not survive a fork safely.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from .schema import (FIELDS, IDS, MEASUREMENT, MODELS, REFERENCE, TRUTH, ArchiveError,
                     Problem, parse_memory_budget)
from .shard import ShardMeta, cross_shard_problems, read_shard


def resolve_shards(path) -> list[str]:
    """Shard paths of an archive: a file, a directory of ``*.h5`` files, or a glob.

    Directory and glob members are returned in name order.
    """
    if isinstance(path, (list, tuple)):
        out: list[str] = []
        for p in path:
            out.extend(resolve_shards(p))
        return out
    text = os.fspath(path)
    if os.path.isdir(text):
        found = sorted(_glob.glob(os.path.join(_glob.escape(text), "*.h5")))
        if not found:
            raise FileNotFoundError(f"archive directory {text!r} holds no *.h5 shards; point to "
                                    f"a shard file, a directory of *.h5 files or a glob.")
        return found
    if os.path.isfile(text):
        return [text]
    if _glob.has_magic(text):
        found = sorted(p for p in _glob.glob(text) if os.path.isfile(p))
        if not found:
            raise FileNotFoundError(f"the glob {text!r} matches no files.")
        return found
    raise FileNotFoundError(f"archive {text!r} does not exist; point to a shard file, a "
                            f"directory of *.h5 files or a glob such as 'run/*.h5'.")


@dataclass
class Block:
    """A block of whole measurements read from one shard.

    Attributes
    ----------
    shard : int
        Index of the shard in ``Archive.shards``.
    path : str
        Path of that shard.
    start, stop : int
        Global measurement offsets ``[start, stop)`` over the whole archive.
    local_start, local_stop : int
        The same range inside the shard.
    ids : ndarray of shape (stop - start,) int64
        Measurement ids (the ``ids`` dataset, or the global offsets without one).
    arrays : dict
        ``"truth"`` (g, *sample_shape), ``"reference"`` (g, R, *sample_shape),
        ``"models/<name>"`` (g, M, *sample_shape), ``"measurement"`` (g, ...), as stored
        (float32 or float64); only the requested fields.
    """

    shard: int
    path: str
    start: int
    stop: int
    local_start: int
    local_stop: int
    ids: np.ndarray
    arrays: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.stop - self.start

    @property
    def truth(self):
        return self.arrays.get(TRUTH)

    @property
    def reference(self):
        return self.arrays.get(REFERENCE)

    @property
    def measurement(self):
        return self.arrays.get(MEASUREMENT)

    @property
    def models(self) -> dict:
        """Model name -> (g, M, *sample_shape) array."""
        prefix = MODELS + "/"
        return {k[len(prefix):]: v for k, v in self.arrays.items() if k.startswith(prefix)}


class Archive:
    """A validated archive of posterior samples (metadata only; no open files).

    Use :func:`open_archive` to create one.

    Attributes
    ----------
    shards : list of str
        Shard paths in reading order.
    shard_meta : list of ShardMeta
        Structure of each shard.
    layout : {"vector", "image"}
    sample_shape : tuple
        ``(d,)`` or ``(C, H, W)``.
    d : int
        Number of scalars per sample (``prod(sample_shape)``).
    models : tuple of str
        Model names (sorted).
    samples_per_model : dict
        Model name -> ``M``.
    num_reference : int or None
        Reference draws per measurement ``R``.
    num_measurements : int
        ``G`` summed over shards.
    offsets : ndarray of shape (n_shards + 1,)
        Global index of each shard's first measurement.
    """

    def __init__(self, metas: list[ShardMeta]):
        self.shard_meta = list(metas)
        first = metas[0]
        self.shards = [m.path for m in metas]
        self.layout = first.layout
        self.sample_shape = tuple(first.sample_shape)
        self.d = int(np.prod(self.sample_shape))
        self.models = tuple(sorted(first.models))
        self.samples_per_model = {name: first.models[name] for name in self.models}
        self.num_reference = first.reference_samples
        self.has_truth = first.has_truth
        self.has_reference = first.reference_samples is not None
        self.has_ids = first.ids is not None
        self.has_measurement = all(m.has_measurement for m in metas)
        self.offsets = np.concatenate([[0], np.cumsum([m.num_measurements for m in metas])])
        self.num_measurements = int(self.offsets[-1])
        self.attrs = dict(first.attrs)

    def __repr__(self) -> str:
        return (f"Archive({len(self.shards)} shard(s), G={self.num_measurements}, "
                f"layout={self.layout!r}, sample_shape={self.sample_shape}, "
                f"models={self.samples_per_model}, R={self.num_reference}, "
                f"truth={self.has_truth})")

    @property
    def image_shape(self) -> tuple | None:
        """``(C, H, W)`` for image archives, ``None`` for vector archives."""
        return self.sample_shape if self.layout == "image" else None

    def ids(self) -> np.ndarray:
        """Measurement ids over the whole archive, shape (G,) int64."""
        if self.has_ids:
            return np.concatenate([m.ids for m in self.shard_meta])
        return np.arange(self.num_measurements, dtype=np.int64)

    def shard_archive(self, index: int) -> "Archive":
        """The archive made of shard ``index`` alone (global offsets restart at 0)."""
        return Archive([self.shard_meta[index]])

    # -- reading -------------------------------------------------------------------------
    def _select(self, fields, models) -> list[str]:
        if fields is None:
            fields = [f for f in (TRUTH, REFERENCE, MODELS) if self._has(f)]
        elif isinstance(fields, str):
            fields = [fields]
        for f in fields:
            if f not in FIELDS:
                raise ValueError(f"unknown field {f!r}; choose from {FIELDS}.")
            if f != IDS and not self._has(f):
                raise ValueError(f"the archive has no {f!r} field; its fields are "
                                 f"{[x for x in FIELDS if self._has(x)]}.")
        if models is None:
            models = self.models
        elif isinstance(models, str):
            models = [models]
        unknown = [m for m in models if m not in self.samples_per_model]
        if unknown:
            raise ValueError(f"unknown model(s) {unknown}; the archive holds {list(self.models)}.")
        names = []
        for f in fields:
            if f == MODELS:
                names.extend(f"{MODELS}/{m}" for m in models)
            elif f != IDS:
                names.append(f)
        return names

    def _has(self, f: str) -> bool:
        return {TRUTH: self.has_truth, REFERENCE: self.has_reference, MODELS: True,
                IDS: True, MEASUREMENT: self.has_measurement}[f]

    def measurement_nbytes(self, names: Sequence[str], shard: int = 0) -> int:
        """Bytes one measurement occupies in memory over the datasets ``names``."""
        meta = self.shard_meta[shard]
        total = 0
        with _open(meta.path) as f:
            for name in names:
                ds = f[name]
                total += int(np.prod(ds.shape[1:])) * ds.dtype.itemsize
        return total

    def block_size(self, names: Sequence[str], memory_budget, shard: int = 0) -> int:
        """Measurements per block for ``names`` within ``memory_budget`` bytes.

        Rounded down to a multiple of the shard's chunk extent along the measurement
        axis when at least one chunk fits, so each chunk is read and decompressed once.
        """
        budget = parse_memory_budget(memory_budget)
        per = max(1, self.measurement_nbytes(names, shard))
        rows = budget // per
        if rows < 1:
            raise ValueError(f"memory_budget={budget} bytes cannot hold one measurement "
                             f"({per} bytes over {list(names)}); raise the budget to at least "
                             f"{per} bytes or read fewer fields/models at a time.")
        chunk = self.shard_meta[shard].chunk_rows
        if chunk and rows >= chunk:
            rows -= rows % chunk
        return int(rows)

    def iter_blocks(self, *, fields=None, models=None, memory_budget=None,
                    shards=None) -> Iterator[Block]:
        """Yield blocks of whole measurements, shard by shard.

        Parameters
        ----------
        fields : sequence of str, optional
            Any of ``"truth"``, ``"reference"``, ``"models"``, ``"measurement"``
            (default: truth, reference and models where present). ``ids`` always come.
        models : sequence of str, optional
            Models to read when ``"models"`` is requested (default: all).
        memory_budget : int or str, optional
            Upper bound on the bytes of one block's arrays, e.g. ``"512MB"`` (default
            256 MiB). A single measurement larger than the budget is an error.
        shards : sequence of int, optional
            Read only these shards (indices into ``shards``), e.g. one per worker.

        Yields
        ------
        Block
            Arrays for measurements ``[start, stop)``, every measurement exactly once.
        """
        names = self._select(fields, models)
        indices = range(len(self.shards)) if shards is None else list(shards)
        for s in indices:
            if not 0 <= s < len(self.shards):
                raise ValueError(f"shard index {s} out of range; the archive has "
                                 f"{len(self.shards)} shard(s).")
            meta = self.shard_meta[s]
            rows = self.block_size(names, memory_budget, s) if names else meta.num_measurements
            base = int(self.offsets[s])
            with _open(meta.path) as f:
                for lo in range(0, meta.num_measurements, max(rows, 1)):
                    hi = min(lo + rows, meta.num_measurements)
                    arrays = {name: f[name][lo:hi] for name in names}
                    ids = (meta.ids[lo:hi] if meta.ids is not None
                           else np.arange(base + lo, base + hi, dtype=np.int64))
                    yield Block(shard=s, path=meta.path, start=base + lo, stop=base + hi,
                                local_start=lo, local_stop=hi, ids=np.asarray(ids), arrays=arrays)

    def read(self, name: str, *, shards=None) -> np.ndarray:
        """Whole dataset ``name`` (e.g. ``"truth"`` or ``"models/mmse"``) concatenated over
        shards. Loads everything: for small archives and tests."""
        parts = []
        for s in (range(len(self.shards)) if shards is None else shards):
            with _open(self.shards[s]) as f:
                parts.append(f[name][()])
        return np.concatenate(parts)

    # -- identity ------------------------------------------------------------------------
    def fingerprint(self, *, full: bool = False) -> str:
        """A content fingerprint (hex SHA-256) identifying this archive.

        The quick form hashes every shard's name, structure (datasets, shapes, dtypes),
        root attributes and the bytes of its first, middle and last measurement of
        every dataset; it does not depend on file times, so copies of an archive agree.
        ``full=True`` hashes every byte of every dataset (reads the whole archive).
        Partial results carry it so that results from different archives are never
        merged.
        """
        h = hashlib.sha256()
        h.update(f"hpx_uncert_archive fingerprint v1 full={full}".encode())
        for meta in self.shard_meta:
            h.update(os.path.basename(meta.path).encode())
            h.update(json.dumps(meta.attrs, sort_keys=True, default=str).encode())
            with _open(meta.path) as f:
                names = sorted(_dataset_names(f))
                for name in names:
                    ds = f[name]
                    h.update(f"{name}:{ds.shape}:{ds.dtype.str}".encode())
                    g = ds.shape[0] if ds.ndim else 0
                    if full or g == 0:
                        rows = [slice(None)] if g else []
                        if full and g:
                            step = max(1, 2**24 // max(1, ds.dtype.itemsize
                                                       * int(np.prod(ds.shape[1:]))))
                            rows = [slice(i, i + step) for i in range(0, g, step)]
                    else:
                        rows = [slice(i, i + 1) for i in sorted({0, g // 2, g - 1})]
                    for sl in rows:
                        h.update(np.ascontiguousarray(ds[sl]).tobytes())
        return h.hexdigest()


def _dataset_names(f) -> list[str]:
    import h5py
    names: list[str] = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return names


def _open(path: str):
    import h5py
    return h5py.File(path, "r")


def scan_archive(path) -> tuple[list[str], list[ShardMeta], list[Problem]]:
    """Resolve ``path`` and read every shard's structure; returns (paths, metas, problems)."""
    try:
        paths = resolve_shards(path)
    except FileNotFoundError as exc:
        return [], [], [Problem(os.fspath(path) if not isinstance(path, (list, tuple))
                                else str(path), "", str(exc),
                                "check the path.")]
    metas, problems = [], []
    for p in paths:
        meta, probs = read_shard(p)
        problems.extend(probs)
        if meta is not None:
            metas.append(meta)
    problems.extend(cross_shard_problems(metas))
    return paths, metas, problems


def open_archive(path) -> Archive:
    """Open an archive for reading after checking its structure against schema v1.

    Parameters
    ----------
    path : str, os.PathLike or list of them
        One shard file, a directory of ``*.h5`` shards (name order), or a glob.

    Returns
    -------
    Archive
        Metadata and readers; no file stays open.

    Raises
    ------
    FileNotFoundError
        Nothing matches ``path``.
    ArchiveError
        Any structural violation (missing attribute, ranks, sample shape or model set
        differing between shards, duplicate ids, unreadable shard). Data values
        (NaN/inf, checksums) are checked by :func:`~hpx_uncert.io.validate_archive`.

    Examples
    --------
    >>> arch = open_archive("run/")                                   # doctest: +SKIP
    >>> for block in arch.iter_blocks(fields=["truth", "models"], memory_budget="1GB"):
    ...     errors = block.models["mmse"] - block.truth[:, None]       # doctest: +SKIP
    """
    paths = resolve_shards(path)
    _, metas, problems = scan_archive(paths)
    if any(p.severity == "error" for p in problems) or not metas:
        raise ArchiveError(problems)
    return Archive(metas)
