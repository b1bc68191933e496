"""Reading the plain model records the plotting functions take."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class ModelPoint:
    """One model's numbers; ``None`` marks a value that was not measured."""

    name: str
    values: Mapping[str, float | None]
    stderrs: Mapping[str, float]


def _number(record: Mapping[str, Any], key: str, index: int, name: str) -> tuple[float | None, float]:
    """``record[key]`` as a float (or None) and its standard error.

    An ``Estimate`` (anything with ``value`` and ``stderr``) may stand in for the
    number; an explicit ``<key>_stderr`` entry wins over its stderr.
    """
    raw = record.get(key)
    stderr = record.get(f"{key}_stderr")
    if raw is not None and hasattr(raw, "value") and hasattr(raw, "stderr"):
        if stderr is None:
            stderr = raw.stderr
        raw = raw.value
    value = None if raw is None else float(raw)
    if value is not None and math.isnan(value):
        value = None
    se = 0.0 if stderr is None else float(stderr)
    if math.isnan(se) or math.isinf(se):
        se = 0.0
    if se < 0:
        raise ValueError(f"model {index} ({name!r}) has a negative {key}_stderr ({se}); "
                         f"standard errors must be >= 0.")
    return value, se


def read_models(models: Sequence[Mapping[str, Any]], keys: Sequence[str],
                required: Sequence[str]) -> list[ModelPoint]:
    """Validate a list of model dicts: ``{"name", <key>, <key>_stderr, ...}``."""
    if isinstance(models, Mapping):
        raise TypeError("models must be a list of dicts, one per model; got a single dict. "
                        "Wrap it in a list: [model].")
    out = []
    for i, record in enumerate(models):
        if not isinstance(record, Mapping):
            raise TypeError(f"model {i} must be a dict with keys 'name', "
                            f"{', '.join(repr(k) for k in keys)}; got {type(record).__name__}.")
        if "name" not in record:
            raise ValueError(f"model {i} has no 'name'; each model dict needs one.")
        name = str(record["name"])
        for key in required:
            if key not in record:
                raise ValueError(f"model {i} ({name!r}) lacks {key!r}; each model dict needs "
                                 f"the keys 'name', {', '.join(repr(k) for k in required)} "
                                 f"(plus optional '<key>_stderr').")
        values, stderrs = {}, {}
        for key in keys:
            values[key], stderrs[key] = _number(record, key, i, name)
        out.append(ModelPoint(name, values, stderrs))
    return out
