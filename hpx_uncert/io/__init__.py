"""Posterior-sample archives: schema v1, reading in blocks, writing, validation, patches.

See ``docs/archive.md`` for the schema. Importing this package imports h5py;
``import hpx_uncert`` alone does not.
"""

from __future__ import annotations

from .archive import Archive, Block, open_archive, resolve_shards
from .patches import PatchBlock, iter_patch_blocks, patch_grid, patch_vectors
from .schema import SCHEMA_VERSION, ArchiveError, Problem, parse_memory_budget
from .validate import validate_archive
from .writer import ArchiveWriter, write_archive

__all__ = ["Archive", "ArchiveError", "ArchiveWriter", "Block", "PatchBlock", "Problem",
           "SCHEMA_VERSION", "iter_patch_blocks", "open_archive", "parse_memory_budget",
           "patch_grid", "patch_vectors", "resolve_shards", "validate_archive", "write_archive"]
