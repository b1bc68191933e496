"""Structure of one shard and of a set of shards, read from metadata only.

Nothing here reads sample data except the small ``ids`` vector; the data scans
(NaN/inf, checksums) live in :mod:`hpx_uncert.io.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h5py
import numpy as np

from .schema import (FLOAT_DTYPES, IDS, LAYOUT_ATTR, LAYOUTS, MEASUREMENT, MODELS, REFERENCE,
                     SCHEMA_ATTR, SCHEMA_VERSION, TRUTH, Problem)


@dataclass
class ShardMeta:
    """What one shard holds, from its metadata.

    ``models`` maps model name to samples per measurement ``M``; ``reference_samples``
    is ``R`` (``None`` without a reference); ``storage`` maps dataset path to
    ``(chunks, compression, fletcher32, dtype)``.
    """

    path: str
    num_measurements: int
    layout: str
    sample_shape: tuple
    models: dict
    has_truth: bool
    reference_samples: int | None
    has_measurement: bool
    ids: np.ndarray | None
    storage: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)

    @property
    def chunk_rows(self) -> int | None:
        """Smallest chunk extent along the measurement axis (``None``: all contiguous)."""
        rows = [c[0] for c, *_ in self.storage.values() if c is not None]
        return min(rows) if rows else None


def _attr_str(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _attr_str(value.item())
    return str(value)


def _jsonable(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_shard(path: str) -> tuple[ShardMeta | None, list[Problem]]:
    """Read the structure of the shard at ``path`` and list its schema violations.

    Returns ``(meta, problems)``; ``meta`` is ``None`` when the shard is too broken to
    describe (unreadable, no schema attribute, no usable model samples).
    """
    path = str(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        return None, [Problem(path, "", f"cannot be opened as an HDF5 file ({exc}); it is "
                              f"truncated, still being written, or not HDF5.",
                              "re-copy or re-write the shard, or remove it from the archive.")]
    with f:
        return _read_open_shard(path, f)


def _read_open_shard(path: str, f) -> tuple[ShardMeta | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(dataset, message, fix, severity="error"):
        problems.append(Problem(path, dataset, message, fix, severity))

    if SCHEMA_ATTR not in f.attrs:
        bad("/", f"root attribute '{SCHEMA_ATTR}' is missing, so this is not an hpx_uncert "
                 f"archive shard.",
            f"set f.attrs['{SCHEMA_ATTR}'] = {SCHEMA_VERSION} when writing.")
        return None, problems
    version = f.attrs[SCHEMA_ATTR]
    try:
        version_ok = int(np.asarray(version).item()) == SCHEMA_VERSION
    except (TypeError, ValueError):
        version_ok = False
    if not version_ok:
        bad("/", f"root attribute '{SCHEMA_ATTR}' is {version!r}; this reader understands "
                 f"schema version {SCHEMA_VERSION} only.",
            f"write the shard with schema v{SCHEMA_VERSION} (see docs/archive.md).")
        return None, problems
    layout = _attr_str(f.attrs.get(LAYOUT_ATTR, "vector"))
    if layout not in LAYOUTS:
        bad("/", f"root attribute '{LAYOUT_ATTR}' is {layout!r}; expected one of {LAYOUTS}.",
            "set layout to 'vector' (samples of shape (d,)) or 'image' (samples (C, H, W)).")
        return None, problems
    tail = 1 if layout == "vector" else 3
    tail_words = "d" if layout == "vector" else "C, H, W"

    sample_sets: dict[str, h5py.Dataset] = {}
    for name in (TRUTH, REFERENCE):
        if name in f:
            if isinstance(f[name], h5py.Dataset):
                sample_sets[name] = f[name]
            else:
                bad(name, f"'{name}' is a group; expected a dataset.",
                    f"store '{name}' as one array of shape (G, ...).")
    models: dict[str, int] = {}
    if MODELS not in f or not isinstance(f[MODELS], h5py.Group):
        bad(MODELS, "no 'models' group: the shard holds no model samples.",
            "write each model's draws as a dataset models/<name> of shape (G, M, ...).")
    else:
        for name, obj in f[MODELS].items():
            if isinstance(obj, h5py.Dataset):
                sample_sets[f"{MODELS}/{name}"] = obj
            else:
                bad(f"{MODELS}/{name}", "is a group; expected a dataset of model samples.",
                    f"store model '{name}' as one dataset of shape (G, M, ...).")
        if len(f[MODELS]) == 0:
            bad(MODELS, "the 'models' group is empty: the shard holds no model samples.",
                "write each model's draws as a dataset models/<name> of shape (G, M, ...).")

    lengths: dict[str, int] = {}
    sample_shapes: dict[str, tuple] = {}
    storage: dict[str, tuple] = {}
    for name, ds in sample_sets.items():
        lead = 1 if name == TRUTH else 2
        count = "" if lead == 1 else ("R, " if name == REFERENCE else "M, ")
        expected = f"(G, {count}{tail_words})"
        storage[name] = (ds.chunks, ds.compression, ds.fletcher32, str(ds.dtype))
        if ds.ndim != lead + tail:
            bad(name, f"has shape {ds.shape} (rank {ds.ndim}); layout '{layout}' expects rank "
                      f"{lead + tail}, {expected}.",
                "reshape the samples (vectors: x.reshape(G, M, -1)) or set the root 'layout' "
                "attribute to match.")
            continue
        if str(ds.dtype) not in FLOAT_DTYPES:
            bad(name, f"has dtype {ds.dtype}; samples must be float32 or float64.",
                "convert before writing, e.g. x.astype(np.float32) (scale 8-bit images to [0, 1]).")
        if lead == 2 and ds.shape[1] < 1:
            bad(name, f"has shape {ds.shape}: zero samples per measurement.",
                "write at least one sample per measurement.")
        lengths[name] = ds.shape[0]
        sample_shapes[name] = tuple(int(s) for s in ds.shape[lead:])
        if name.startswith(MODELS + "/"):
            models[name[len(MODELS) + 1:]] = int(ds.shape[1])

    ids = None
    if IDS in f:
        ds = f[IDS]
        if not isinstance(ds, h5py.Dataset) or ds.ndim != 1 or ds.dtype.kind not in "iu":
            shape = getattr(ds, "shape", None)
            dtype = getattr(ds, "dtype", None)
            bad(IDS, f"must be a 1-D integer dataset of shape (G,); got shape {shape}, "
                     f"dtype {dtype}.", "write ids as np.asarray(ids, dtype=np.int64).")
        else:
            ids = np.asarray(ds[()], dtype=np.int64)
            lengths[IDS] = len(ids)
            uniq, counts = np.unique(ids, return_counts=True)
            if len(uniq) < len(ids):
                dup = uniq[counts > 1]
                bad(IDS, f"holds {len(ids) - len(uniq)} duplicate id(s) within the shard, e.g. "
                         f"{dup[:5].tolist()}.", "give every measurement a unique id.")
    has_measurement = MEASUREMENT in f
    if has_measurement:
        ds = f[MEASUREMENT]
        if not isinstance(ds, h5py.Dataset) or ds.ndim < 1:
            bad(MEASUREMENT, "must be a dataset of shape (G, ...).",
                "store the degraded inputs as one array with the measurement axis first.")
        else:
            lengths[MEASUREMENT] = ds.shape[0]

    if lengths and len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k}: {v}" for k, v in lengths.items())
        bad("/", f"datasets disagree on the number of measurements G ({detail}).",
            "every dataset's first axis must index the same G measurements.")
    if len(set(sample_shapes.values())) > 1:
        detail = ", ".join(f"{k}: {v}" for k, v in sample_shapes.items())
        bad("/", f"datasets disagree on the sample shape ({detail}).",
            "truth, reference and every model must hold samples of the same shape.")
    if not models or not sample_shapes:
        return None, problems
    num = max(lengths.values())
    if num == 0:
        bad("/", "holds no measurements (G = 0).",
            "write at least one measurement or drop the shard.")
    attrs = {k: _jsonable(v) for k, v in f.attrs.items()}
    meta = ShardMeta(path=path, num_measurements=int(num), layout=layout,
                     sample_shape=next(iter(sample_shapes.values())), models=models,
                     has_truth=TRUTH in sample_shapes,
                     reference_samples=(int(sample_sets[REFERENCE].shape[1])
                                        if REFERENCE in sample_shapes else None),
                     has_measurement=has_measurement, ids=ids, storage=storage, attrs=attrs)
    return meta, problems


def cross_shard_problems(metas: list[ShardMeta]) -> list[Problem]:
    """Violations between shards: layout, sample shape, fields, models, counts, ids."""
    problems: list[Problem] = []
    if not metas:
        return problems
    first = metas[0]
    fix_same = "all shards of an archive must share layout, sample shape, fields and models."
    for m in metas[1:]:
        def bad(dataset, message, fix=fix_same):
            problems.append(Problem(m.path, dataset, message, fix))
        if m.layout != first.layout:
            bad("/", f"layout is '{m.layout}' but the first shard ({first.path}) has "
                     f"'{first.layout}'.")
        if m.sample_shape != first.sample_shape:
            bad("/", f"sample shape is {m.sample_shape} (d={int(np.prod(m.sample_shape))}) but "
                     f"the first shard ({first.path}) has {first.sample_shape} "
                     f"(d={int(np.prod(first.sample_shape))}).")
        if set(m.models) != set(first.models):
            missing = sorted(set(first.models) - set(m.models))
            extra = sorted(set(m.models) - set(first.models))
            bad(MODELS, f"model set differs from the first shard ({first.path}): missing "
                        f"{missing}, extra {extra}.")
        for name in sorted(set(m.models) & set(first.models)):
            if m.models[name] != first.models[name]:
                bad(f"{MODELS}/{name}", f"holds M={m.models[name]} samples per measurement but "
                                        f"the first shard has M={first.models[name]}.",
                    "write the same number of samples per measurement in every shard.")
        for label, mine, theirs in ((TRUTH, m.has_truth, first.has_truth),
                                    (REFERENCE, m.reference_samples is not None,
                                     first.reference_samples is not None),
                                    (IDS, m.ids is not None, first.ids is not None)):
            if mine != theirs:
                bad(label, f"is {'present' if mine else 'absent'} here but "
                           f"{'present' if theirs else 'absent'} in the first shard "
                           f"({first.path}).")
        if (m.reference_samples is not None and first.reference_samples is not None
                and m.reference_samples != first.reference_samples):
            bad(REFERENCE, f"holds R={m.reference_samples} draws per measurement but the first "
                           f"shard has R={first.reference_samples}.",
                "write the same number of reference draws in every shard.")
    with_ids = [m for m in metas if m.ids is not None]
    if len(with_ids) > 1:
        # unique within each shard first (in-shard duplicates are reported by read_shard)
        ids = np.concatenate([np.unique(m.ids) for m in with_ids])
        owner = np.concatenate([np.full(len(np.unique(m.ids)), s) for s, m in enumerate(with_ids)])
        order = np.argsort(ids, kind="stable")
        ids, owner = ids[order], owner[order]
        repeated = np.flatnonzero(ids[1:] == ids[:-1]) + 1
        by_shard: dict[int, list] = {}
        for pos in repeated.tolist():
            by_shard.setdefault(int(owner[pos]), []).append((int(ids[pos]), int(owner[pos - 1])))
        for s, clashes in sorted(by_shard.items()):
            other = with_ids[clashes[0][1]].path
            problems.append(Problem(
                with_ids[s].path, IDS,
                f"{len(clashes)} id(s) also appear in an earlier shard ({other}), e.g. "
                f"{[c[0] for c in clashes[:5]]}; ids must be unique across the archive.",
                "offset the ids of each shard (e.g. by the shard's first global index)."))
    return problems
