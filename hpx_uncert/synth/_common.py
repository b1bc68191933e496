"""Shared plumbing of the synthetic workloads: shards, blocks, the answers file."""

from __future__ import annotations

import json
import math
import os
from typing import Callable, Iterator

import numpy as np

from ..io.writer import ArchiveWriter

#: bytes of samples generated per block when writing (bounds the generator's memory)
BLOCK_BYTES = 64 * 2**20


def truth_path(archive_path) -> str:
    """Path of the exact-answers JSON of a synthetic archive.

    ``run.h5`` -> ``run.truth.json``; a shard directory ``run/`` -> ``run.truth.json``
    beside it.
    """
    text = os.fspath(archive_path).rstrip("/")
    root, ext = os.path.splitext(text)
    return (root if ext == ".h5" else text) + ".truth.json"


def value(v, *, stderr: float = 0.0, method: str = "closed form", note: str | None = None):
    """One exact answer in the report's ``{"value", "stderr", "method"}`` shape.

    Infinite or undefined values are written as ``null`` with a ``note``, since JSON
    has no infinity.
    """
    out = {"value": None, "stderr": None, "method": method}
    if v is not None and math.isfinite(float(v)):
        out["value"] = float(v)
        out["stderr"] = float(stderr)
    if note:
        out["note"] = note
    return out


def write_answers(path, answers: dict) -> str:
    """Write ``answers`` as JSON next to the archive, atomically; returns the path."""
    target = truth_path(path)
    tmp = f"{target}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        json.dump(answers, fh, indent=2, sort_keys=False, default=_to_json)
        fh.write("\n")
    os.replace(tmp, target)
    return target


def _to_json(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def shard_plan(path, num_measurements: int, shards: int) -> list[tuple[str, int, int]]:
    """``(shard_path, start, stop)`` for ``shards`` nearly equal shards.

    One shard writes ``path`` itself; several write ``path/shard-00000.h5`` ... .
    """
    if isinstance(num_measurements, bool) or int(num_measurements) < 1:
        raise ValueError(f"num_measurements must be an int >= 1; got {num_measurements!r}.")
    if isinstance(shards, bool) or int(shards) < 1 or int(shards) > num_measurements:
        raise ValueError(f"shards must be an int in [1, num_measurements={num_measurements}]; "
                         f"got {shards!r}.")
    edges = np.linspace(0, num_measurements, int(shards) + 1).round().astype(int)
    path = os.fspath(path)
    if shards == 1:
        return [(path, 0, int(num_measurements))]
    os.makedirs(path, exist_ok=True)
    return [(os.path.join(path, f"shard-{i:05d}.h5"), int(edges[i]), int(edges[i + 1]))
            for i in range(int(shards))]


def write_generated(path, *, num_measurements: int, shards: int, bytes_per_measurement: int,
                    generate: Callable[[int, int], dict], layout: str = "vector",
                    writer_options: dict | None = None, attrs: dict | None = None) -> list[str]:
    """Write shards block by block from ``generate(start, stop) -> append kwargs``.

    Blocks hold about :data:`BLOCK_BYTES` of samples, so millions of samples never
    sit in memory at once; every shard is written atomically by :class:`ArchiveWriter`.
    """
    rows = max(1, BLOCK_BYTES // max(1, bytes_per_measurement))
    written = []
    for shard_path, lo, hi in shard_plan(path, num_measurements, shards):
        with ArchiveWriter(shard_path, layout=layout, num_measurements=hi - lo,
                           attrs=attrs, **(writer_options or {})) as writer:
            for a in range(lo, hi, rows):
                writer.append(**generate(a, min(a + rows, hi)))
        written.append(shard_path)
    return written


def block_rng(seed: int, start: int) -> np.random.Generator:
    """Random generator of the block starting at measurement ``start``.

    Seeded by ``(seed, start)``: an archive is reproducible for given parameters
    (sizes, shard count), since those fix where blocks start.
    """
    return np.random.default_rng([int(seed), int(start)])


def mc_power(h_samples: np.ndarray, d: int) -> tuple[float, float]:
    """Entropy power and its standard error from Monte Carlo draws of ``-log p``.

    ``h = mean(-log p)``; ``N = exp(2h/d) / (2 pi e)``; delta method for the error.
    """
    h = float(np.mean(h_samples))
    se_h = float(np.std(h_samples, ddof=1) / math.sqrt(len(h_samples)))
    power = math.exp(2.0 * h / d) / (2.0 * math.pi * math.e)
    return power, power * 2.0 / d * se_h


def iter_chunks(n: int, size: int) -> Iterator[slice]:
    for lo in range(0, n, size):
        yield slice(lo, min(lo + size, n))
