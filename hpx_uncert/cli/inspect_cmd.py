"""``hpx-uncert inspect ARCHIVE``: a summary table of an archive."""

from __future__ import annotations

import json
import os

import click


@click.command("inspect")
@click.argument("archive")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--fingerprint", is_flag=True, help="Also compute the content fingerprint.")
def inspect(archive, as_json, fingerprint):
    """Summarise ARCHIVE (a shard, a directory of *.h5 shards or a quoted glob):
    shards, measurements, models and samples per measurement, layout and storage."""
    from hpx_uncert.io import ArchiveError, open_archive

    try:
        arch = open_archive(archive)
    except FileNotFoundError as exc:
        raise click.BadParameter(str(exc), param_hint="ARCHIVE") from None
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    info = summarise(arch, fingerprint=fingerprint)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"archive       {archive}")
    click.echo(f"layout        {info['layout']}  sample shape {tuple(info['sample_shape'])}  "
               f"d = {info['d']}")
    click.echo(f"measurements  {info['num_measurements']} in {len(info['shards'])} shard(s)")
    click.echo(f"truth         {'yes' if info['has_truth'] else 'no'}")
    reference = (f"R = {info['num_reference']} per measurement" if info["has_reference"]
                 else "no")
    click.echo(f"reference     {reference}")
    click.echo(f"ids           {'stored' if info['has_ids'] else 'global offsets'}")
    if info["fingerprint"]:
        click.echo(f"fingerprint   {info['fingerprint']}")
    click.echo("")
    rows = [("model", "M", "dtype", "chunks (meas.)", "filters")]
    for name, entry in info["models"].items():
        rows.append((name, str(entry["samples"]), entry["dtype"], entry["chunk_measurements"],
                     entry["filters"]))
    _table(rows)
    click.echo("")
    rows = [("shard", "G", "first id", "size")]
    for s in info["shards"]:
        rows.append((os.path.basename(s["path"]), str(s["num_measurements"]), str(s["first_id"]),
                     _size(s["bytes"])))
    _table(rows)


def summarise(arch, *, fingerprint: bool = False) -> dict:
    """Plain-data summary of an opened archive (what ``inspect --json`` prints)."""
    meta0 = arch.shard_meta[0]
    models = {}
    for name in arch.models:
        chunks, compression, fletcher32, dtype = meta0.storage[f"models/{name}"]
        filters = [f for f in (compression, "fletcher32" if fletcher32 else None) if f]
        models[name] = {"samples": arch.samples_per_model[name], "dtype": dtype,
                        "chunk_measurements": "contiguous" if chunks is None else str(chunks[0]),
                        "filters": ",".join(filters) or "none"}
    ids = arch.ids()
    shards = [{"path": m.path, "num_measurements": m.num_measurements,
               "first_id": int(ids[arch.offsets[i]]) if m.num_measurements else None,
               "bytes": os.path.getsize(m.path)} for i, m in enumerate(arch.shard_meta)]
    return {"layout": arch.layout, "sample_shape": list(arch.sample_shape), "d": arch.d,
            "num_measurements": arch.num_measurements, "has_truth": arch.has_truth,
            "has_reference": arch.has_reference, "num_reference": arch.num_reference,
            "has_ids": arch.has_ids, "models": models, "shards": shards,
            "attrs": arch.attrs,
            "fingerprint": arch.fingerprint() if fingerprint else None}


def _table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for j, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if j == 0:
            click.echo("  ".join("-" * w for w in widths))


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
