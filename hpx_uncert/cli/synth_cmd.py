"""``hpx-uncert synth KIND -o PATH``: a synthetic archive with its exact answers."""

from __future__ import annotations

import click

KIND_NAMES = ("linear-gaussian", "mixture", "images")


def _floats(ctx, param, text):
    if text is None:
        return None
    try:
        return tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers such as 0.25,0.5,1,2; "
                                 f"got {text!r}.") from None


@click.command("synth")
@click.argument("kind", type=click.Choice(KIND_NAMES))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="Archive to write: NAME.h5, or a directory when --shards > 1.")
@click.option("-G", "--measurements", type=click.IntRange(min=1), default=None,
              help="Number of measurements G (default: 200; images 64).")
@click.option("-M", "--samples", type=click.IntRange(min=1), default=None,
              help="Samples per measurement of the stochastic models (default 64; images 8).")
@click.option("-R", "--reference", type=click.IntRange(min=1), default=64, show_default=True,
              help="Reference (exact posterior) draws per measurement.")
@click.option("-d", "--dim", type=click.IntRange(min=1), default=None,
              help="Signal dimension d (linear-gaussian: 8, mixture: 4).")
@click.option("--gammas", callback=_floats, default="0.25,0.5,1,2", show_default=True,
              help="linear-gaussian: noise scales of the optimal family.")
@click.option("--degradation", type=click.Choice(["downsample", "inpaint"]),
              default="downsample", show_default=True, help="images: the degradation.")
@click.option("--tile", type=click.IntRange(min=4), default=32, show_default=True,
              help="images: tile side in pixels.")
@click.option("--shards", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--float32", "use_float32", is_flag=True, help="Store samples as float32.")
@click.option("--compression", type=click.Choice(["none", "gzip", "lzf"]), default="none",
              show_default=True)
@click.option("--fletcher32", is_flag=True, help="Checksum every chunk.")
def synth(kind, output, measurements, samples, reference, dim, gammas, degradation, tile,
          shards, seed, use_float32, compression, fletcher32):
    """Write a synthetic archive of KIND and, beside it, OUTPUT-stem.truth.json with the
    value every report quantity should take (closed forms for linear-gaussian, Monte
    Carlo on known densities for mixture, none for images)."""
    import numpy as np

    from hpx_uncert.synth import make_gaussian_mixture, make_images, make_linear_gaussian
    from hpx_uncert.synth import truth_path

    common = dict(seed=seed, shards=shards, compression=None if compression == "none"
                  else compression, fletcher32=fletcher32)
    if use_float32:
        common["dtype"] = np.float32
    try:
        if kind == "images":
            make_images(output, degradation=degradation, tile=tile,
                        num_measurements=measurements or 64, model_samples=samples or 8,
                        **common)
        else:
            make = make_linear_gaussian if kind == "linear-gaussian" else make_gaussian_mixture
            extra = {"gammas": gammas} if kind == "linear-gaussian" else {}
            if dim is not None:
                extra["d"] = dim
            make(output, num_measurements=measurements or 200, model_samples=samples or 64,
                 reference_samples=reference, **extra, **common)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {output} and {truth_path(output)}")
