"""``hpx-uncert validate ARCHIVE``: check an archive against schema v1."""

from __future__ import annotations

import click


@click.command("validate")
@click.argument("archive")
@click.option("-k", "--k", "k", type=click.IntRange(min=1), default=None,
              help="Neighbour count you will evaluate with: checks M >= k+1 and R >= k+1.")
@click.option("--structure-only", is_flag=True,
              help="Skip reading the data (no NaN/inf or checksum scan).")
@click.option("--memory-budget", default="256MB", show_default=True,
              help="Bytes read at a time during the data scan, e.g. 1GB.")
def validate(archive, k, structure_only, memory_budget):
    """Check ARCHIVE (a shard, a directory of *.h5 shards or a quoted glob) against
    schema v1 and list every problem; exit 1 when any is an error."""
    from hpx_uncert.io import parse_memory_budget, validate_archive

    try:
        budget = parse_memory_budget(memory_budget)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--memory-budget") from None
    problems = validate_archive(archive, k=k, check_data=not structure_only,
                                memory_budget=budget)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        click.echo(str(p), err=p.severity == "error")
    if errors:
        click.echo(f"{archive}: INVALID, {len(errors)} error(s), "
                   f"{len(problems) - len(errors)} warning(s).", err=True)
        raise SystemExit(1)
    click.echo(f"{archive}: valid schema v1 archive"
               f"{'' if not problems else f' ({len(problems)} warning(s))'}.")
