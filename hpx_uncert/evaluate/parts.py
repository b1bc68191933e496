"""Partial results of work units: one ``.npz`` per unit, written atomically.

A part file is named by its unit and by the run's key (archive fingerprint plus
settings digest), and carries that key inside, so a part can neither be confused
with the part of another archive or other settings nor be half-written: it is
written to a temporary file in the same folder, flushed to disk and moved into
place with ``os.replace``.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile

import numpy as np

META_KEY = "__meta__"


def run_key(fingerprint: str, digest: str) -> str:
    """Short key of a run: 12 hex digits of the archive fingerprint and of the settings."""
    return f"{fingerprint[:12]}-{digest[:12]}"


def part_path(parts_dir: str, unit_id: str, key: str) -> str:
    return os.path.join(parts_dir, f"{unit_id}.{key}.npz")


def write_part(path: str, arrays: dict, meta: dict) -> None:
    """Write ``arrays`` and ``meta`` (JSON-ready) to ``path`` atomically."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    payload = dict(arrays)
    payload[META_KEY] = np.array(json.dumps(meta, sort_keys=True))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_part(path: str) -> tuple[dict, dict]:
    """``(arrays, meta)`` of a part file; arrays are loaded into memory."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files if name != META_KEY}
        meta = json.loads(str(data[META_KEY]))
    return arrays, meta


def read_meta(path: str) -> dict | None:
    """The metadata of a part, or ``None`` when the file is not a readable part."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data[META_KEY]))
    except (OSError, ValueError, KeyError, EOFError):
        return None


def find_parts(paths) -> list[str]:
    """Part files under ``paths``: part files, run folders (``parts/`` inside) or globs."""
    found: list[str] = []
    for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths):
        p = os.fspath(p)
        if os.path.isdir(p):
            sub = os.path.join(p, "parts")
            folder = sub if os.path.isdir(sub) else p
            found.extend(glob.glob(os.path.join(glob.escape(folder), "*.npz")))
        elif os.path.isfile(p):
            found.append(p)
        elif glob.has_magic(p):
            found.extend(q for q in glob.glob(p) if os.path.isfile(q))
        else:
            raise FileNotFoundError(f"no part file or folder {p!r}; pass the OUTDIR of "
                                    f"`hpx-uncert evaluate`, its parts/ folder or .npz files.")
    return sorted(set(f for f in found if not os.path.basename(f).startswith(".tmp-")))
