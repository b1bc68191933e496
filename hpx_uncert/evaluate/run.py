"""Run work units into part files, resume, and assemble the report from parts."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass

from .parts import find_parts, part_path, read_meta, read_part, run_key, write_part
from .quantities import archive_reasons, model_reasons
from .settings import Settings
from .units import Unit, assign_units, plan_units, select_models
from .views import resolve_centre, vector_shape

log = logging.getLogger("hpx_uncert.evaluate")


@dataclass
class RunContext:
    """An opened archive with its plan under given settings."""

    archive: object
    settings: Settings
    models: tuple
    units: list
    meta: dict  # common metadata carried by every part

    @property
    def key(self) -> str:
        return self.meta["key"]


def prepare(archive, settings: Settings) -> RunContext:
    """Open the archive (a path or an ``Archive``) and plan the run."""
    if not hasattr(archive, "iter_blocks"):
        from hpx_uncert.io import open_archive

        archive = open_archive(archive)
    settings = resolve_centre(archive, settings)
    models = select_models(archive, settings)
    L, D = vector_shape(archive, settings)
    units = plan_units(archive, settings, d=D, points_per_sample=L)
    fingerprint = archive.fingerprint()
    digest = settings.digest()
    data_range = archive.attrs.get("data_range")
    info = {"G": archive.num_measurements, "d": archive.d, "D": D, "L": L,
            "layout": archive.layout, "sample_shape": list(archive.sample_shape),
            "shards": [os.path.basename(p) for p in archive.shards],
            "samples_per_model": {m: archive.samples_per_model[m] for m in models},
            "R": archive.num_reference, "has_truth": bool(archive.has_truth),
            "has_reference": bool(archive.has_reference), "fingerprint": fingerprint,
            "data_range": float(data_range) if data_range is not None else None}
    reasons = {"archive": archive_reasons(archive, settings, L, D),
               "models": {m: model_reasons(archive, settings, m, L, D) for m in models}}
    meta = {"key": run_key(fingerprint, digest), "fingerprint": fingerprint, "digest": digest,
            "settings": settings.hashed(), "archive": info, "models": list(models),
            "reasons": reasons, "plan": [u.uid for u in units]}
    return RunContext(archive, settings, models, units, meta)


def _compute(ctx: RunContext, unit: Unit) -> dict:
    if unit.kind == "conditional":
        from .conditional import run_conditional_unit

        return run_conditional_unit(ctx.archive, ctx.settings, unit, ctx.models)
    from .pooled import run_pooled_unit

    return run_pooled_unit(ctx.archive, ctx.settings, unit)


def _unit_meta(ctx: RunContext, unit: Unit) -> dict:
    return {**ctx.meta, "uid": unit.uid, "kind": unit.kind, "model": unit.model}


def _show_progress(settings: Settings) -> bool:
    if settings.progress is not None:
        return bool(settings.progress)
    return sys.stderr.isatty()


def run_units(ctx: RunContext, units: list, *, parts_dir: str | None, resume: bool = False,
              run_log: str | None = None) -> dict:
    """Compute ``units``; with ``parts_dir`` each result goes to an atomic part file.

    With ``resume=True`` a unit whose part file exists with this run's key is not
    recomputed. Returns ``uid -> (arrays, meta)`` for the units computed in memory
    (``parts_dir=None``), else ``uid -> path``.
    """
    from tqdm.auto import tqdm

    gpus = _gpu_workers(ctx.settings.device) if parts_dir else []
    if len(gpus) > 1:
        return run_units_on_workers(ctx, units, parts_dir=parts_dir, tokens=gpus,
                                    worker_device="cuda:0", resume=resume, run_log=run_log)
    out = {}
    bar = tqdm(units, desc="evaluate", unit="unit", disable=not _show_progress(ctx.settings),
               file=sys.stderr)
    for unit in bar:
        bar.set_postfix_str(unit.uid)
        path = part_path(parts_dir, unit.uid, ctx.key) if parts_dir else None
        if path and resume and _done(path, ctx.key, unit.uid):
            log.info("resume: %s already done, skipped", unit.uid)
            _append_log(run_log, {"unit": unit.uid, "status": "skipped (done)"})
            out[unit.uid] = path
            continue
        t0 = time.perf_counter()
        arrays = _compute(ctx, unit)
        seconds = time.perf_counter() - t0
        log.info("%s done in %.2f s", unit.uid, seconds)
        _append_log(run_log, {"unit": unit.uid, "status": "computed",
                              "seconds": round(seconds, 3)})
        meta = _unit_meta(ctx, unit)
        if path:
            write_part(path, arrays, meta)
            out[unit.uid] = path
        else:
            out[unit.uid] = (arrays, meta)
    return out


def _gpu_workers(device: str) -> list[str]:
    """GPU tokens to spread units over: several only for a multi-GPU device request."""
    from hpx_uncert.backends import parse_device, resolve_device

    if parse_device(device).kind == "cpu":
        return []
    spec = resolve_device(device)  # a clear error when CUDA was asked for but is unusable
    if spec.kind != "cuda" or len(spec.ids) < 2:
        return []
    from hpx_uncert.backends.multi_gpu import gpus_for

    return gpus_for(str(spec))


def run_units_on_workers(ctx: RunContext, units: list, *, parts_dir: str, tokens,
                         worker_device: str, resume: bool = False,
                         run_log: str | None = None) -> dict:
    """Compute ``units`` in one spawned worker process per token (one GPU each).

    Each worker opens the archive itself, computes whole units with
    ``device=worker_device`` (inside a worker its single GPU is ``cuda:0``) and
    writes each part file atomically as soon as the unit is done, so a killed
    multi-GPU run resumes like a single-process one. Units already done are
    skipped with ``resume``. The report is merged from the part files exactly as
    in a single-process run. Returns ``uid -> path``.
    """
    from dataclasses import replace

    from hpx_uncert.backends.multi_gpu import run_on_gpus

    worker_settings = replace(ctx.settings, device=worker_device, progress=False)
    out, jobs = {}, []
    for unit in units:
        path = part_path(parts_dir, unit.uid, ctx.key)
        if resume and _done(path, ctx.key, unit.uid):
            _append_log(run_log, {"unit": unit.uid, "status": "skipped (done)"})
            out[unit.uid] = path
            continue
        jobs.append((ctx.archive, worker_settings, ctx.models, ctx.meta, unit, path))
    log.info("%d unit(s) on %d worker(s) %s", len(jobs), len(tokens), list(tokens))
    for (uid, seconds) in run_on_gpus(_unit_job, jobs, devices=list(tokens)):
        _append_log(run_log, {"unit": uid, "status": "computed", "seconds": round(seconds, 3)})
    for job in jobs:
        out[job[4].uid] = job[5]
    return out


def _unit_job(job) -> tuple[str, float]:
    """One unit inside a worker process (module level: pickled by reference)."""
    archive, settings, models, meta, unit, path = job
    ctx = RunContext(archive, settings, models, [unit], meta)
    t0 = time.perf_counter()
    arrays = _compute(ctx, unit)
    write_part(path, arrays, _unit_meta(ctx, unit))
    return unit.uid, time.perf_counter() - t0


def _done(path: str, key: str, uid: str) -> bool:
    if not os.path.exists(path):
        return False
    meta = read_meta(path)
    return meta is not None and meta.get("key") == key and meta.get("uid") == uid


def _append_log(path: str | None, record: dict) -> None:
    if path is None:
        return
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")


class MergeError(ValueError):
    """Part files that do not make one complete run."""


def check_parts(metas: list[tuple[str, dict]]) -> dict:
    """Check that parts come from one run and cover its plan; return the common meta."""
    if not metas:
        raise MergeError("no part files found; pass OUTDIRs of `hpx-uncert evaluate` runs, "
                         "their parts/ folders or .npz part files.")
    bad = [p for p, m in metas if m is None]
    if bad:
        raise MergeError(f"{len(bad)} file(s) are not readable part files, e.g. {bad[0]}.")
    first_path, first = metas[0]
    for path, meta in metas[1:]:
        if meta["fingerprint"] != first["fingerprint"]:
            raise MergeError(f"parts come from different archive contents: {first_path} "
                             f"(archive {first['fingerprint'][:12]}) and {path} "
                             f"(archive {meta['fingerprint'][:12]}); merge parts of one "
                             f"archive only.")
        if meta["digest"] != first["digest"]:
            changed = sorted(k for k in set(first["settings"]) | set(meta["settings"])
                             if first["settings"].get(k) != meta["settings"].get(k))
            raise MergeError(f"parts were made with different settings ({', '.join(changed)} "
                             f"differ): {first_path} and {path}; rerun with the same settings.")
    have = {m["uid"] for _, m in metas}
    missing = [u for u in first["plan"] if u not in have]
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise MergeError(f"the parts are incomplete: {len(missing)} of {len(first['plan'])} "
                         f"unit(s) missing ({shown}). Run the missing batch shard(s), or "
                         f"`hpx-uncert evaluate ... --resume` to finish them.")
    return first


def merge_part_files(paths) -> dict:
    """The report assembled from part files (see :func:`find_parts` for ``paths``)."""
    from .merge import assemble

    files = find_parts(paths)
    metas = [(p, read_meta(p)) for p in files]
    common = check_parts(metas)
    seen, parts = set(), []
    for path, meta in metas:
        if meta["uid"] in seen:  # the same unit from two folders: identical by construction
            continue
        seen.add(meta["uid"])
        parts.append(read_part(path))
    return assemble(parts, common)


def evaluate(archive, *, outdir=None, resume: bool = False, num_shards: int = 1,
             shard_index: int = 0, figures: bool = True, **settings) -> dict | None:
    """Uncertainty, perception, distortion and UP-plane position of every model of an archive.

    Parameters
    ----------
    archive : str, os.PathLike or hpx_uncert.io.Archive
        A shard file, a folder of ``*.h5`` shards, a glob, or an opened archive.
    outdir : str, optional
        Folder for ``report.json``, ``report.csv``, figures and ``parts/``. Without
        one, nothing is written and the report is only returned.
    resume : bool, default False
        Keep part files of this run already in ``outdir/parts`` (same archive and
        settings) and compute only the missing units.
    num_shards, shard_index : int
        Run only the units of batch shard ``shard_index`` of ``num_shards``; with
        ``num_shards > 1`` only part files are written (assemble them with
        :func:`merge_part_files` or ``hpx-uncert merge``) and ``None`` is returned.
    figures : bool, default True
        Write the UP-plane, uncertainty-distortion and eta figures (PNG and PDF).
    **settings
        Fields of :class:`Settings`: ``k``, ``correction``, ``duplicates``, ``models``,
        ``patch``, ``stride``, ``centre``, ``pooled_queries``, ``seed``, ``jackknife_blocks``,
        ``data_range``, ``memory_budget`` (bytes or a string like ``"2GiB"``),
        ``device``, ``progress``.

    Returns
    -------
    dict or None
        The report (the content of ``report.json``); ``None`` for a partial batch shard.

    Examples
    --------
    >>> report = evaluate("demo.h5", k=5)                              # doctest: +SKIP
    >>> report["models"]["mmse"]["uncertainty"]["value"]               # doctest: +SKIP
    """
    from hpx_uncert.io import parse_memory_budget

    if "memory_budget" in settings and settings["memory_budget"] is not None:
        settings["memory_budget"] = parse_memory_budget(settings["memory_budget"])
    elif "memory_budget" in settings:
        del settings["memory_budget"]
    cfg = Settings(**settings)
    ctx = prepare(archive, cfg)
    units = assign_units(ctx.units, num_shards, shard_index)
    if outdir is None:
        if num_shards > 1:
            raise ValueError("a batch shard (num_shards > 1) needs outdir for its part files.")
        from .merge import assemble

        results = run_units(ctx, units, parts_dir=None)
        return assemble([results[u.uid] for u in ctx.units], ctx.meta)
    parts_dir = os.path.join(os.fspath(outdir), "parts")
    os.makedirs(parts_dir, exist_ok=True)
    run_log = os.path.join(os.fspath(outdir), "run-log.jsonl")
    log.info("%d unit(s) planned, %d in this job (batch shard %d of %d); run key %s",
             len(ctx.units), len(units), shard_index, num_shards, ctx.key)
    run_units(ctx, units, parts_dir=parts_dir, resume=resume, run_log=run_log)
    if num_shards > 1:
        return None
    paths = [part_path(parts_dir, u.uid, ctx.key) for u in ctx.units]
    report = merge_part_files(paths)
    from .report import write_outputs

    write_outputs(report, os.fspath(outdir), figures=figures)
    return report
