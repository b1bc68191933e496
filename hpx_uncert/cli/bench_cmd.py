"""``hpx-uncert bench``: run the speed and accuracy benchmarks of a source checkout.

The benchmarks are scripts in ``benchmarks/`` beside the package (they are not
installed with a wheel). Each runs in its own process and writes JSON and a
Markdown table to the output folder; timings never make the command fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

SUITES = ("roofline", "peers", "scaling", "accuracy")


def benchmarks_dir() -> Path:
    """The ``benchmarks/`` folder of the checkout this package was installed from."""
    import hpx_uncert

    return Path(hpx_uncert.__file__).resolve().parent.parent / "benchmarks"


@click.command("bench")
@click.argument("suite", type=click.Choice([*SUITES, "all"]), default="all")
@click.option("--quick", is_flag=True,
              help="Small sizes and short caps (about 1-2 minutes per suite): a smoke test.")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False), default=None,
              help="Folder for the JSON results and tables [default: benchmarks/out].")
@click.option("--cap", type=float, default=None,
              help="Seconds one peer call may take before it is stopped (peers only).")
def bench(suite, quick, out, cap):
    """Run benchmark SUITE: roofline, peers, scaling, accuracy, or all (the default).

    \b
    roofline  GEMM rates in the k-NN shapes and memory bandwidth of this machine
    peers     side by side with infomeasure, entropy_estimators, scikit-learn,
              scipy cKDTree and faiss on the same data (values and ratios)
    scaling   time and peak memory against N, d, groups; evaluate end to end
    accuracy  bias and standard errors against closed-form answers

    Full runs take about 25 minutes on 2 cores; results go to benchmarks/out.
    """
    folder = benchmarks_dir()
    if not folder.is_dir():
        raise click.ClickException(
            f"benchmarks folder not found at {folder}; the benchmarks ship with the source "
            f"tree, not the wheel. Run from a checkout installed with `pip install -e .`.")
    out_dir = Path(out) if out else folder / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ}
    # faiss timings are bimodal under the default spin-wait policy (benchmarks/NOTES.md)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    failed = []
    for name in (SUITES if suite == "all" else (suite,)):
        script = folder / f"{name}.py"
        if not script.exists():
            click.echo(f"[{name}] skipped: {script} is missing", err=True)
            failed.append(name)
            continue
        args = [sys.executable, str(script), *(_options_for(name, script, quick, out_dir, cap))]
        click.echo(f"[{name}] {' '.join(args[1:])}", err=True)
        if subprocess.run(args, env=env).returncode != 0:
            failed.append(name)
    click.echo(f"results in {out_dir}", err=True)
    if failed:
        raise click.ClickException(f"benchmark(s) did not finish: {', '.join(failed)}")


def _options_for(name: str, script: Path, quick: bool, out_dir: Path, cap) -> list[str]:
    if name == "accuracy":
        # the accuracy script has its own options; pass only those it declares
        help_text = subprocess.run([sys.executable, str(script), "--help"],
                                   capture_output=True, text=True).stdout
        opts = []
        if quick and "--quick" in help_text:
            opts.append("--quick")
        if "--out" in help_text:
            opts += ["--out", str(out_dir)]
        return opts
    opts = ["--out", str(out_dir)]
    if quick:
        opts.append("--quick")
    if name == "peers":
        opts += ["--roofline", str(out_dir / "roofline.json")]
        if cap is not None:
            opts += ["--cap", str(cap)]
    return opts
