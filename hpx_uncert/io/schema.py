"""Archive schema v1: names, the problem record and the archive error.

A shard is one HDF5 file with root attribute ``hpx_uncert_archive = 1``; see
``docs/archive.md`` for the full contract. This module holds no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._checks import parse_memory_budget  # noqa: F401  (re-exported for io users)

SCHEMA_ATTR = "hpx_uncert_archive"
SCHEMA_VERSION = 1
LAYOUT_ATTR = "layout"
LAYOUTS = ("vector", "image")

TRUTH = "truth"
REFERENCE = "reference"
MODELS = "models"
IDS = "ids"
MEASUREMENT = "measurement"
#: fields that hold sample vectors (float32/float64, trailing sample shape)
SAMPLE_FIELDS = (TRUTH, REFERENCE, MODELS)
#: every field a reader can ask for
FIELDS = (TRUTH, REFERENCE, MODELS, IDS, MEASUREMENT)
FLOAT_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Problem:
    """One violation of the archive schema.

    Attributes
    ----------
    shard : str
        Path of the shard (or of the archive when no shard applies).
    dataset : str
        HDF5 path inside the shard (``"/"`` for root attributes, ``""`` for the
        file itself).
    message : str
        What is wrong, with the values that arrived.
    fix : str
        How to repair it.
    severity : {"error", "warning"}
        Warnings do not make an archive invalid.
    """

    shard: str
    dataset: str
    message: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.shard}: {self.dataset}" if self.dataset else self.shard
        return f"{self.severity}: {where}: {self.message} Fix: {self.fix}"


class ArchiveError(ValueError):
    """An archive violates schema v1; ``problems`` lists every violation found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        lines = "\n".join(f"  - {p}" for p in errors)
        super().__init__(f"the archive does not follow schema v1 ({len(errors)} problem(s)):\n"
                         f"{lines}\nRun `hpx-uncert validate ARCHIVE` for a full check.")
