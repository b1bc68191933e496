"""Root of the ``hpx-uncert`` command line.

Subcommands live one per module and are imported only when invoked, so
``hpx-uncert --help`` imports neither faiss, numba, cupy nor torch.
"""

from __future__ import annotations

import importlib
import logging

import click

# command name -> "module:attribute" of a click.Command
COMMANDS: dict[str, str] = {
    "inspect": "hpx_uncert.cli.inspect_cmd:inspect",
    "validate": "hpx_uncert.cli.validate_cmd:validate",
    "synth": "hpx_uncert.cli.synth_cmd:synth",
    "evaluate": "hpx_uncert.cli.evaluate_cmd:evaluate",
    "merge": "hpx_uncert.cli.merge_cmd:merge",
    "demo": "hpx_uncert.cli.demo_cmd:demo",
    "bench": "hpx_uncert.cli.bench_cmd:bench",
    "devices": "hpx_uncert.cli.devices_cmd:devices",
}

# one-line help shown by `hpx-uncert --help` without importing the command
SHORT_HELP: dict[str, str] = {
    "inspect": "Summarise an archive: shards, models, d, sample counts.",
    "validate": "Check an archive against schema v1; exit 1 listing every problem.",
    "synth": "Write a synthetic archive together with its exact answers.",
    "evaluate": "Uncertainty, perception, distortion and the UP plane per model.",
    "merge": "Assemble a report from per-shard partial results.",
    "demo": "Synthesize a small archive, evaluate it, write report and figures.",
    "bench": "Run the speed and accuracy benchmarks.",
    "devices": "List the compute backends available here.",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx):
        return sorted(name for name, target in COMMANDS.items() if _module_exists(target))

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None or not _module_exists(target):
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(target: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(target.split(":")[0]) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", count=True, help="Less log output (repeatable).")
@click.version_option(package_name="hpx_uncert")
@click.pass_context
def cli(ctx, verbose, quiet):
    """hpx-uncert: measure uncertainty and perception of restoration models."""
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(logging.DEBUG, min(logging.CRITICAL, level)),
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbose - quiet


if __name__ == "__main__":  # pragma: no cover
    cli()
