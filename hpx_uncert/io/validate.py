"""Full validation of an archive: structure, every data value, sample counts for ``k``."""

from __future__ import annotations

import numpy as np

from .archive import scan_archive
from .schema import MEASUREMENT, MODELS, REFERENCE, TRUTH, Problem, parse_memory_budget
from .shard import ShardMeta


def validate_archive(path, *, k: int | None = None, check_data: bool = True,
                     memory_budget=None) -> list[Problem]:
    """List every schema-v1 violation of the archive at ``path``.

    Parameters
    ----------
    path : str, os.PathLike or list
        One shard, a directory of ``*.h5`` shards or a glob.
    k : int, optional
        Neighbour count the evaluation will use: per-measurement k-NN estimates need
        ``M >= k + 1`` samples per model and ``R >= k + 1`` reference draws.
        Deterministic models (``M = 1``) get a warning, not an error.
    check_data : bool
        Read every value: NaN/inf (with location), unreadable chunks (Fletcher-32
        checksum failures, corrupted compressed data, truncation).
    memory_budget : int or str, optional
        Bytes read at a time during the data scan (default 256 MiB).

    Returns
    -------
    list of Problem
        Empty when the archive is valid. ``severity == "error"`` entries make it invalid.
    """
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ValueError(f"The 'k' parameter must be an int in the range [1, inf). Got {k!r} "
                         f"instead.")
    _, metas, problems = scan_archive(path)
    if k is not None:
        for meta in metas:
            problems.extend(_sample_count_problems(meta, int(k)))
    if check_data:
        budget = parse_memory_budget(memory_budget)
        offset = 0
        for meta in metas:
            problems.extend(_data_problems(meta, offset, budget))
            offset += meta.num_measurements
    return problems


def _sample_count_problems(meta: ShardMeta, k: int) -> list[Problem]:
    out = []
    need = k + 1
    for name, m in sorted(meta.models.items()):
        if m == 1:
            out.append(Problem(meta.path, f"{MODELS}/{name}",
                               f"is deterministic (M=1): per-measurement k-NN quantities "
                               f"(spread, conditional perception) are not defined for it; pooled "
                               f"quantities are.", "nothing to fix for a deterministic model.",
                               "warning"))
        elif m < need:
            out.append(Problem(meta.path, f"{MODELS}/{name}",
                               f"holds M={m} samples per measurement; k={k} needs at least "
                               f"M=k+1={need}.", f"use k <= {m - 1} or draw at least {need} "
                                                 f"samples per measurement."))
    r = meta.reference_samples
    if r is not None and r < need:
        out.append(Problem(meta.path, REFERENCE,
                           f"holds R={r} draws per measurement; k={k} needs at least "
                           f"R=k+1={need}.", f"use k <= {r - 1} or draw at least {need} "
                                             f"reference samples per measurement."))
    return out


def _data_problems(meta: ShardMeta, offset: int, budget: int) -> list[Problem]:
    import h5py

    out: list[Problem] = []
    names = [n for n in meta.storage if n in (TRUTH, REFERENCE) or n.startswith(MODELS + "/")]
    try:
        f = h5py.File(meta.path, "r")
    except OSError as exc:
        return [Problem(meta.path, "", f"cannot be opened as an HDF5 file ({exc}).",
                        "re-copy or re-write the shard.")]
    with f:
        if meta.has_measurement and isinstance(f[MEASUREMENT], h5py.Dataset):
            names.append(MEASUREMENT)
        for name in names:
            ds = f[name]
            per = max(1, int(np.prod(ds.shape[1:])) * ds.dtype.itemsize)
            rows = max(1, budget // per)
            if ds.chunks and rows >= ds.chunks[0]:
                rows -= rows % ds.chunks[0]
            bad_reads, first_bad, nonfinite, first_nonfinite = 0, None, 0, None
            for lo in range(0, ds.shape[0], rows):
                hi = min(lo + rows, ds.shape[0])
                try:
                    block = ds[lo:hi]
                except (OSError, RuntimeError, ValueError):
                    failures = _locate_read_failures(ds, lo, hi)
                    bad_reads += len(failures)
                    first_bad = first_bad or failures[0]
                    continue
                if name == MEASUREMENT or block.dtype.kind != "f":
                    continue
                finite = np.isfinite(block)
                if not finite.all():
                    nonfinite += int(finite.size - np.count_nonzero(finite))
                    if first_nonfinite is None:
                        where = np.argwhere(~finite)[0]
                        first_nonfinite = (lo + int(where[0]), [int(i) for i in where[1:]],
                                           block[tuple(where)])
            if first_bad is not None:
                lo, hi, exc = first_bad
                out.append(Problem(meta.path, name,
                                   f"cannot be read at measurements [{lo}, {hi}) ({exc}); "
                                   f"{bad_reads} chunk(s) unreadable: a Fletcher-32 checksum "
                                   f"failure, corrupted compressed data or a truncated file.",
                                   "re-copy the shard from its source or re-write it."))
            if first_nonfinite is not None:
                g, rest, value = first_nonfinite
                ident = int(meta.ids[g]) if meta.ids is not None else offset + g
                rest_words = (f"sample {rest[0]}, element {rest[1:]}" if name != TRUTH
                              else f"element {rest}")
                out.append(Problem(meta.path, name,
                                   f"holds {nonfinite} non-finite value(s); first is {value} at "
                                   f"measurement {g} of the shard (global {offset + g}, id "
                                   f"{ident}), {rest_words}.",
                                   "re-run the sampler for these measurements or drop them."))
    return out


def _locate_read_failures(ds, lo: int, hi: int) -> list[tuple]:
    """Re-read ``[lo, hi)`` chunk by chunk and return the ``(lo, hi, error)`` that fail."""
    # contiguous data have no natural unit; 64 slices bound the number of re-reads
    step = ds.chunks[0] if ds.chunks else max(1, -(-(hi - lo) // 64))
    start = lo - lo % step
    failures = []
    for a in range(start, hi, step):
        b = min(a + step, ds.shape[0])
        try:
            ds[a:b]
        except (OSError, RuntimeError, ValueError) as exc:
            failures.append((a, b, exc))
    return failures or [(lo, hi, "read failed as a whole but every chunk reads alone")]
