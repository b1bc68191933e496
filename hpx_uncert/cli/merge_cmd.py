"""``hpx-uncert merge``: assemble the report from the part files of batch jobs."""

from __future__ import annotations

import os

import click


@click.command("merge")
@click.argument("parts", nargs=-1, required=True, type=str)
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for report.json, report.csv and figures.")
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
@click.pass_context
def merge(ctx, parts, outdir, no_figures):
    """Assemble the report from PARTS: OUTDIRs of batch jobs, parts/ folders or .npz files.

    Refuses parts made from different archive contents or settings, and an
    incomplete set (naming the missing units).
    """
    from hpx_uncert.evaluate import merge_part_files
    from hpx_uncert.evaluate.report import format_table, write_outputs

    try:
        report = merge_part_files(list(parts))
        write_outputs(report, outdir, figures=not no_figures)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if (ctx.obj or {}).get("verbosity", 0) >= 0:
        click.echo(format_table(report))
        click.echo(f"\nreport: {os.path.join(outdir, 'report.json')}")
