"""``hpx-uncert evaluate``: the report of an archive, resumable and splittable in batch jobs."""

from __future__ import annotations

import os

import click


def _env_int(name: str):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"environment variable {name}={value!r} is not an integer.")


def parse_budget(ctx, param, value):
    if value is None:
        return None
    from hpx_uncert.io import parse_memory_budget

    try:
        return parse_memory_budget(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("evaluate")
@click.argument("archive", type=str)
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for report.json, report.csv, figures and parts/.")
@click.option("-k", "--k", "k", default=5, show_default=True, type=click.IntRange(min=1),
              help="Neighbour order of the k-NN estimators.")
@click.option("--correction", default=None, type=str,
              help="Bias correction of per-measurement k-NN estimates (e.g. 'whiten').")
@click.option("--perception-correction", default="gaussian", show_default=True,
              type=str, help="Bias correction of the per-measurement k-NN divergences "
                             "(perception, hellinger2, kl); 'none' for the textbook estimator.")
@click.option("--duplicates", default="raise", show_default=True,
              type=click.Choice(["raise", "drop"]), help="What zero k-NN radii do.")
@click.option("-m", "--model", "models", multiple=True,
              help="Model to evaluate (repeatable; default: all).")
@click.option("--patch", type=click.IntRange(min=1), default=None,
              help="Patch size for image archives.")
@click.option("--stride", type=click.IntRange(min=1), default=None,
              help="Patch stride for image archives (default: the patch size).")
@click.option("--centre/--no-centre", "centre", default=None,
              help="Image archives: centre each measurement's samples per pixel before the "
                   "per-measurement estimates (default: on for images; see docs/evaluate.md).")
@click.option("--pooled-queries", type=click.IntRange(min=1), default=None,
              help="Query points of the pooled k-NN estimates (default: every sample); "
                   "every sample stays a neighbour candidate.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the pooled query subsample.")
@click.option("--data-range", type=float, default=None,
              help="Signal range for PSNR (default: the archive's data_range attribute).")
@click.option("--memory-budget", default="2GiB", show_default=True, callback=parse_budget,
              help="Bytes a work unit may hold, e.g. 512MB or 2GiB.")
@click.option("--device", default="cpu", show_default=True,
              help="Where neighbour searches run: cpu, cuda, cuda:0,1 or auto.")
@click.option("--resume", is_flag=True, help="Keep finished units of this run in OUTDIR/parts.")
@click.option("--num-shards", type=click.IntRange(min=1), default=None,
              help="Split the units over this many batch jobs "
                   "(default: $SLURM_ARRAY_TASK_COUNT or 1).")
@click.option("--shard-index", type=click.IntRange(min=0), default=None,
              help="This job's share, 0-based (default: $SLURM_ARRAY_TASK_ID or 0).")
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
@click.pass_context
def evaluate(ctx, archive, outdir, k, correction, perception_correction, duplicates, models,
             patch, stride, centre,
             pooled_queries, seed, data_range, memory_budget, device, resume, num_shards,
             shard_index, no_figures):
    """Uncertainty, perception, distortion and the UP plane for every model of ARCHIVE.

    ARCHIVE is a shard file, a folder of *.h5 shards or a quoted glob. Writes
    OUTDIR/report.json, OUTDIR/report.csv, the figures, and one part file per work
    unit under OUTDIR/parts (a killed run continues with --resume). With
    --num-shards N only this job's units run and no report is written; assemble
    the parts with `hpx-uncert merge`.
    """
    from hpx_uncert.io import ArchiveError

    if num_shards is None:
        num_shards = _env_int("SLURM_ARRAY_TASK_COUNT") or 1
    if shard_index is None:
        shard_index = _env_int("SLURM_ARRAY_TASK_ID") or 0
    if shard_index >= num_shards:
        raise click.BadParameter(f"shard index {shard_index} must be below the number of "
                                 f"shards ({num_shards}).", param_hint="--shard-index")
    verbosity = (ctx.obj or {}).get("verbosity", 0)
    try:
        from hpx_uncert.evaluate import evaluate as run

        report = run(archive, outdir=outdir, resume=resume, num_shards=num_shards,
                     shard_index=shard_index, figures=not no_figures, k=k,
                     correction=correction, duplicates=duplicates,
                     perception_correction=(None if perception_correction.lower() == "none"
                                            else perception_correction),
                     models=tuple(models) or None, patch=patch, stride=stride,
                     centre=centre, pooled_queries=pooled_queries, seed=seed, data_range=data_range,
                     memory_budget=memory_budget, device=device,
                     progress=None if verbosity >= 0 else False)
    except (FileNotFoundError, ArchiveError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
    if report is None:
        click.echo(f"batch shard {shard_index} of {num_shards}: parts written to "
                   f"{os.path.join(outdir, 'parts')}; run `hpx-uncert merge` when all are done.")
        return
    if verbosity >= 0:
        from hpx_uncert.evaluate.report import format_table

        click.echo(format_table(report))
        click.echo(f"\nreport: {os.path.join(outdir, 'report.json')}")
