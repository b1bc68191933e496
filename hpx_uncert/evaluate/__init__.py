"""The evaluation pipeline: plan work units, run them into part files, merge, report.

``evaluate(archive, outdir=..., **settings)`` is the entry point behind
``hpx-uncert evaluate``; ``merge_part_files`` is behind ``hpx-uncert merge``.
"""

from __future__ import annotations

from .run import evaluate, merge_part_files
from .settings import Settings

__all__ = ["Settings", "evaluate", "merge_part_files"]
