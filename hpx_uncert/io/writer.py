"""Write schema-v1 shards atomically, at once or block by block.

Every shard is written to a hidden temporary file in the destination folder,
closed, re-opened and checked, then renamed over the destination with
``os.replace``: a reader never sees a half-written shard, and a crash leaves
the previous file (if any) untouched.
"""

from __future__ import annotations

import os
import secrets
from typing import Mapping

import numpy as np

from .schema import (IDS, LAYOUT_ATTR, LAYOUTS, MEASUREMENT, MODELS, REFERENCE, SCHEMA_ATTR,
                     SCHEMA_VERSION, TRUTH, ArchiveError)

#: target bytes of one chunk of the largest dataset when the chunk size is automatic
CHUNK_TARGET_BYTES = 2**20
COMPRESSIONS = (None, "gzip", "lzf")


class ArchiveWriter:
    """Append blocks of measurements to a new shard; atomic at :meth:`close`.

    Parameters
    ----------
    path : str or os.PathLike
        Destination shard (``*.h5``). Replaced only when :meth:`close` succeeds.
    layout : {"vector", "image"}
        ``"image"`` samples have shape ``(C, H, W)``, ``"vector"`` samples ``(d,)``.
    compression : {None, "gzip", "lzf"}
        HDF5 filter for every sample dataset; ``compression_opts`` is gzip's level.
    fletcher32 : bool
        Store a Fletcher-32 checksum per chunk (reads then detect corruption).
    chunk_measurements : int, optional
        Measurements per chunk; default makes the largest dataset's chunks ~1 MiB.
        ``0`` requests contiguous storage (needs ``num_measurements`` and no filters).
    num_measurements : int, optional
        Total ``G`` if known: datasets are allocated once and ``close`` checks the count.
        Otherwise they grow with each :meth:`append`.
    dtype : numpy dtype, optional
        Store samples as this float type (default: the dtype of the first block,
        float32 or float64).
    attrs : mapping, optional
        Extra root attributes (e.g. ``data_range``, ``description``).

    Examples
    --------
    >>> with ArchiveWriter("big.h5", compression="lzf") as w:          # doctest: +SKIP
    ...     for truth, draws in generate():
    ...         w.append(truth=truth, models={"diffusion": draws})
    """

    def __init__(self, path, *, layout: str = "vector", compression=None, compression_opts=None,
                 fletcher32: bool = False, chunk_measurements: int | None = None,
                 num_measurements: int | None = None, dtype=None,
                 attrs: Mapping | None = None):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}; got {layout!r}.")
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}; got {compression!r}.")
        if chunk_measurements == 0 and (num_measurements is None or compression or fletcher32):
            raise ValueError("contiguous storage (chunk_measurements=0) needs num_measurements "
                             "and no compression or fletcher32; HDF5 filters work on chunks.")
        if chunk_measurements is not None and (isinstance(chunk_measurements, bool)
                                               or int(chunk_measurements) < 0):
            raise ValueError(f"chunk_measurements must be a non-negative int; got "
                             f"{chunk_measurements!r}.")
        if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64; got {dtype!r}.")
        attrs = dict(attrs or {})
        for reserved in (SCHEMA_ATTR, LAYOUT_ATTR):
            if reserved in attrs:
                raise ValueError(f"attrs may not set the reserved root attribute {reserved!r}; "
                                 f"use the layout parameter.")
        import h5py

        self.path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        self._tmp = os.path.join(folder, f".{os.path.basename(self.path)}."
                                         f"{os.getpid()}.{secrets.token_hex(4)}.tmp")
        self.layout = layout
        self._tail = 1 if layout == "vector" else 3
        self._filters = dict(compression=compression, fletcher32=bool(fletcher32))
        if compression == "gzip":
            self._filters["compression_opts"] = 4 if compression_opts is None else compression_opts
        self._chunk = chunk_measurements
        self._total = num_measurements
        self._dtype = None if dtype is None else np.dtype(dtype)
        self._count = 0
        self._fields: dict[str, tuple] | None = None
        self._file = h5py.File(self._tmp, "w")
        self._file.attrs[SCHEMA_ATTR] = np.int64(SCHEMA_VERSION)
        self._file.attrs[LAYOUT_ATTR] = layout
        for key, value in attrs.items():
            self._file.attrs[key] = value
        self._closed = False

    # -- context manager -----------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    @property
    def num_written(self) -> int:
        """Measurements appended so far."""
        return self._count

    def append(self, *, models: Mapping, truth=None, reference=None, ids=None,
               measurement=None) -> None:
        """Append ``g`` measurements.

        Parameters
        ----------
        models : mapping of str to array of shape (g, M, *sample_shape)
        truth : array of shape (g, *sample_shape), optional
        reference : array of shape (g, R, *sample_shape), optional
        ids : array of shape (g,) int, optional
        measurement : array of shape (g, ...), optional

        The first call fixes which fields exist and their shapes; later calls must
        pass the same fields with the same trailing shapes.
        """
        if self._closed:
            raise ValueError(f"the writer for {self.path} is closed.")
        block = self._check_block(models=models, truth=truth, reference=reference, ids=ids,
                                  measurement=measurement)
        g = next(iter(block.values())).shape[0]
        if self._fields is None:
            self._create(block)
        elif set(block) != set(self._fields):
            raise ValueError(f"every block must hold the same fields; the first held "
                             f"{sorted(self._fields)}, this one {sorted(block)}.")
        lo, hi = self._count, self._count + g
        if self._total is not None and hi > self._total:
            raise ValueError(f"num_measurements={self._total} but {hi} measurements were "
                             f"appended.")
        for name, arr in block.items():
            ds = self._file[name]
            if arr.shape[1:] != self._fields[name]:
                raise ValueError(f"{name}: block has trailing shape {arr.shape[1:]} but earlier "
                                 f"blocks had {self._fields[name]}.")
            if self._total is None:
                ds.resize(hi, axis=0)
            ds[lo:hi] = arr
        self._count = hi

    def _check_block(self, *, models, truth, reference, ids, measurement) -> dict:
        if not isinstance(models, Mapping) or not models:
            raise ValueError("models must be a non-empty mapping {name: array (g, M, ...)}.")
        block: dict[str, np.ndarray] = {}
        lead = {TRUTH: 1, REFERENCE: 2}
        sample_fields = [(TRUTH, truth), (REFERENCE, reference)]
        sample_fields += [(f"{MODELS}/{name}", arr) for name, arr in models.items()]
        sample_shape = None
        for name, arr in sample_fields:
            if arr is None:
                continue
            if name.startswith(MODELS + "/") and ("/" in name[len(MODELS) + 1:]
                                                  or not name[len(MODELS) + 1:]):
                raise ValueError(f"model names must be non-empty and contain no '/'; got "
                                 f"{name[len(MODELS) + 1:]!r}.")
            a = np.asarray(arr)
            if a.dtype.kind != "f":
                raise TypeError(f"{name} must hold floats (float32/float64); got dtype "
                                f"{a.dtype}. Convert first, e.g. x.astype(np.float32).")
            want = lead.get(name, 2) + self._tail
            if a.ndim != want:
                shape = "(d,)" if self.layout == "vector" else "(C, H, W)"
                raise ValueError(f"{name} must have rank {want} (leading "
                                 f"{'(g,)' if want - self._tail == 1 else '(g, M)'} then "
                                 f"{shape}) for layout '{self.layout}'; got shape {a.shape}.")
            shape = a.shape[lead.get(name, 2):]
            if sample_shape is None:
                sample_shape = shape
            elif shape != sample_shape:
                raise ValueError(f"{name} has samples of shape {shape} but other fields have "
                                 f"{sample_shape}.")
            if not np.all(np.isfinite(a)):
                where = np.argwhere(~np.isfinite(a))[0].tolist()
                raise ValueError(f"{name} contains NaN or infinite values (first at index "
                                 f"{where}); repair them before writing.")
            dtype = self._dtype or (a.dtype if a.dtype in (np.float32, np.float64)
                                    else np.dtype(np.float32))
            block[name] = np.ascontiguousarray(a, dtype=dtype)
        if ids is not None:
            a = np.asarray(ids)
            if a.ndim != 1 or a.dtype.kind not in "iu":
                raise ValueError(f"ids must be a 1-D integer array of shape (g,); got shape "
                                 f"{a.shape}, dtype {a.dtype}.")
            block[IDS] = a.astype(np.int64)
        if measurement is not None:
            a = np.asarray(measurement)
            if a.ndim < 1:
                raise ValueError("measurement must have the measurement axis first, (g, ...).")
            block[MEASUREMENT] = a
        lengths = {k: v.shape[0] for k, v in block.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"fields disagree on the number of measurements in this block: "
                             f"{lengths}.")
        return block

    def _create(self, block: dict) -> None:
        per_measurement = max(int(np.prod(a.shape[1:])) * a.dtype.itemsize for a in block.values())
        if self._chunk is None:
            rows = max(1, CHUNK_TARGET_BYTES // max(1, per_measurement))
            if self._total:
                rows = min(rows, self._total)
        else:
            rows = int(self._chunk)
        self._fields = {}
        for name, arr in block.items():
            tail = arr.shape[1:]
            size = self._total if self._total is not None else 0
            kwargs = {}
            if rows > 0:
                kwargs = dict(chunks=(rows, *tail),
                              maxshape=(None if self._total is None else self._total, *tail))
                if name not in (IDS,):
                    kwargs.update(self._filters)
            self._file.create_dataset(name, shape=(size, *tail), dtype=arr.dtype, **kwargs)
            self._fields[name] = tail

    def close(self) -> str:
        """Finish the shard: close, re-open and check it, then rename into place.

        Returns the destination path. Raises ``ValueError`` when nothing was appended
        or fewer than ``num_measurements`` measurements arrived, and
        :class:`ArchiveError` when the written file fails its structural check.
        """
        if self._closed:
            return self.path
        try:
            if self._fields is None:
                raise ValueError(f"nothing was appended to {self.path}; a shard needs at least "
                                 f"one measurement.")
            if self._total is not None and self._count != self._total:
                raise ValueError(f"num_measurements={self._total} but only {self._count} "
                                 f"measurements were appended to {self.path}.")
            self._file.close()
            from .shard import read_shard
            meta, problems = read_shard(self._tmp)
            errors = [p for p in problems if p.severity == "error"]
            if meta is None or errors or meta.num_measurements != self._count:
                raise ArchiveError(errors)
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Discard the temporary file; the destination is left as it was."""
        self._closed = True
        try:
            self._file.close()
        except Exception:  # the handle may already be closed or invalid; removal matters
            pass
        if os.path.exists(self._tmp):
            os.remove(self._tmp)


def write_archive(path, *, models: Mapping, truth=None, reference=None, ids=None,
                  measurement=None, layout: str = "vector", compression=None,
                  compression_opts=None, fletcher32: bool = False,
                  chunk_measurements: int | None = None, dtype=None,
                  attrs: Mapping | None = None) -> str:
    """Write one schema-v1 shard atomically from in-memory arrays.

    Parameters
    ----------
    path : str or os.PathLike
        Destination ``*.h5`` file (replaced atomically).
    models : mapping of str to array of shape (G, M, *sample_shape)
        Draws of each model; ``M = 1`` for a deterministic model.
    truth : array of shape (G, *sample_shape), optional
        Ground truth per measurement.
    reference : array of shape (G, R, *sample_shape), optional
        Draws from the true / reference posterior.
    ids : array of shape (G,) int, optional
        Measurement ids, unique across the archive.
    measurement : array of shape (G, ...), optional
        The degraded inputs (stored, not used by estimators).
    layout : {"vector", "image"}
        ``sample_shape`` is ``(d,)`` or ``(C, H, W)``.
    compression, compression_opts, fletcher32, chunk_measurements, dtype, attrs
        As in :class:`ArchiveWriter`; ``chunk_measurements=0`` stores contiguously.

    Returns
    -------
    str
        The destination path.
    """
    first = np.asarray(next(iter(models.values()))) if models else None
    total = None if first is None or first.ndim == 0 else first.shape[0]
    writer = ArchiveWriter(path, layout=layout, compression=compression,
                           compression_opts=compression_opts, fletcher32=fletcher32,
                           chunk_measurements=chunk_measurements, num_measurements=total,
                           dtype=dtype, attrs=attrs)
    with writer:
        writer.append(models=models, truth=truth, reference=reference, ids=ids,
                      measurement=measurement)
    return writer.path
