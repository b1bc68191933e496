"""The plan of a run: its work units and their assignment to batch shards.

Two kinds of unit:

- ``conditional`` — one per archive shard: every per-measurement quantity
  (conditional entropies, divergences, MSE) and the streaming moments of the
  errors, for every model. Its measurements are all in that shard.
- ``pooled`` — one per (model, range of query measurements): the k-NN distances of
  pooled query points, searched against every measurement of the archive, read
  block by block, with a top-k merge. This is what makes pooled estimates exact
  across shards rather than averages of per-shard estimates.

The plan depends only on the archive's structure and on the hashed settings, so
every batch job computes the same plan and the same assignment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

#: Share of the memory budget held by the query-side arrays of a pooled unit.
QUERY_SHARE = 8


@dataclass(frozen=True)
class Unit:
    """One piece of work whose result is one part file.

    Attributes
    ----------
    uid : str
        Unique, file-name-safe name, e.g. ``"cond-s0003"``, ``"pool-01-mmse-r0000"``.
    kind : {"conditional", "pooled"}
    shard : int or None
        Archive shard of a conditional unit.
    model : str or None
        Model of a pooled unit.
    start, stop : int
        Global measurement range ``[start, stop)`` of a pooled unit's query points
        (a conditional unit: the shard's range).
    cost : float
        Rough relative cost, used only to balance batch shards.
    """

    uid: str
    kind: str
    shard: int | None
    model: str | None
    start: int
    stop: int
    cost: float


def select_models(archive, settings) -> tuple[str, ...]:
    """The models a run evaluates, checked against the archive."""
    if settings.models is None:
        return tuple(archive.models)
    unknown = [m for m in settings.models if m not in archive.models]
    if unknown:
        raise ValueError(f"model(s) {unknown} are not in the archive; it holds "
                         f"{list(archive.models)}. Choose among those.")
    return tuple(settings.models)


def pooled_query_index(num_points: int, settings) -> np.ndarray | None:
    """Sorted flat indices (measurement * points_per_measurement + j) of pooled queries.

    ``None`` means every point is a query. The draw depends only on the count and on
    ``settings.seed``, so every batch job draws the same queries.
    """
    q = settings.pooled_queries
    if q is None or q >= num_points:
        return None
    rng = np.random.default_rng(settings.seed)
    return np.sort(rng.choice(num_points, size=q, replace=False)).astype(np.int64)


def pooled_bytes_per_query(d: int, k: int) -> int:
    """Bytes a pooled unit holds per query point, worst case (every query its own truth).

    float64 error and truth vectors (``2 d``) and a float32/float64 copy of them in
    each search (``d``); three top-k distance arrays (``3 k``); the merge of a
    search result into the top-k (result distances and indices, the concatenated
    and the gathered rows: ``5 k``); eight index and log-distance arrays. Measured
    on d = 16, k = 5 with every sample a query: 265 bytes per query (estimate 768).
    """
    return 8 * (3 * d + 8 * k + 8)


def query_ranges(num_measurements: int, points_per_measurement: int,
                 query_index: np.ndarray | None, bytes_per_query: int,
                 memory_budget: int) -> list[tuple[int, int]]:
    """Split ``[0, G)`` into contiguous measurement ranges whose queries fit the budget."""
    max_queries = max(1, memory_budget // QUERY_SHARE // max(1, bytes_per_query))
    if query_index is None:
        counts = np.full(num_measurements, points_per_measurement, dtype=np.int64)
    else:
        counts = np.bincount(query_index // points_per_measurement,
                             minlength=num_measurements)
    ranges, start, held = [], 0, 0
    for g in range(num_measurements):
        if held and held + counts[g] > max_queries:
            ranges.append((start, g))
            start, held = g, 0
        held += int(counts[g])
    ranges.append((start, num_measurements))
    return ranges


def plan_units(archive, settings, *, d: int, points_per_sample: int = 1) -> list[Unit]:
    """Every work unit of a run, in a fixed order.

    Parameters
    ----------
    archive : hpx_uncert.io.Archive
    settings : Settings
    d : int
        Dimension of the vectors the estimators see (patch vectors for images).
    points_per_sample : int
        Vectors per stored sample (patches per image; 1 for vector archives).
    """
    models = select_models(archive, settings)
    units: list[Unit] = []
    for s, meta in enumerate(archive.shard_meta):
        g = meta.num_measurements
        work = g * sum(archive.samples_per_model[m] for m in models) * points_per_sample
        units.append(Unit(f"cond-s{s:04d}", "conditional", s, None,
                          int(archive.offsets[s]), int(archive.offsets[s + 1]), float(work)))
    if not archive.has_truth:
        return units
    G = archive.num_measurements
    k = settings.k
    for i, m in enumerate(models):
        per = archive.samples_per_model[m] * points_per_sample
        qidx = pooled_query_index(G * per, settings)
        bytes_per_query = pooled_bytes_per_query(d, k)
        for r, (lo, hi) in enumerate(query_ranges(G, per, qidx, bytes_per_query,
                                                  settings.memory_budget)):
            n_q = (hi - lo) * per if qidx is None else int(
                np.count_nonzero((qidx >= lo * per) & (qidx < hi * per)))
            units.append(Unit(f"pool-{i:02d}-{_safe(m)}-r{r:04d}", "pooled", None, m, lo, hi,
                              float(n_q) * G * 2))
    return units


def assign_units(units: list[Unit], num_shards: int, shard_index: int) -> list[Unit]:
    """Units batch shard ``shard_index`` of ``num_shards`` runs (greedy, by cost).

    Deterministic: longest units first, each to the least-loaded shard (ties to the
    lowest index), so every job computes the same split without talking to others.
    """
    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise ValueError(f"shard index must be in [0, {num_shards}); got {shard_index} of "
                         f"{num_shards}.")
    load = [0.0] * num_shards
    owner = {}
    for u in sorted(units, key=lambda u: (-u.cost, u.uid)):
        j = min(range(num_shards), key=lambda s: (load[s], s))
        owner[u.uid] = j
        load[j] += u.cost
    return [u for u in units if owner[u.uid] == shard_index]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)[:40]
