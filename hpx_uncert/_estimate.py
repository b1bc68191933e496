"""The result type every estimator returns."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Estimate:
    """A scalar estimate with its standard error and the settings that made it.

    Parameters
    ----------
    value : float
        The estimate (nats for entropies and divergences, squared units for
        entropy powers and MSE).
    stderr : float
        Standard error of ``value``; ``nan`` when it cannot be computed (say so
        in ``stderr_method``).
    n : int
        Number of samples (query points, or groups for conditional estimates)
        that entered the estimate.
    d : int
        Dimension of the sample vectors.
    k : int or None
        Neighbour order for k-NN estimators, ``None`` for plug-in estimators.
    method : str
        Estimator name, e.g. ``"kozachenko-leonenko"``.
    stderr_method : str
        How ``stderr`` was obtained, e.g. ``"jackknife(20 blocks)"``.
    details : mapping
        Settings and diagnostics: neighbour-search method, correction applied,
        duplicate counts, the uncorrected value, ...

    Examples
    --------
    >>> e = Estimate(1.5, 0.1, n=1000, d=2, k=5, method="kozachenko-leonenko")
    >>> float(e)
    1.5
    """

    value: float
    stderr: float
    n: int
    d: int
    k: int | None = None
    method: str = ""
    stderr_method: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; non-finite floats become ``None``."""
        out = asdict(self)
        out["details"] = dict(self.details)
        return _json_safe(out)

    def replace(self, **changes: Any) -> "Estimate":
        """A copy with some fields changed (details are merged, not replaced)."""
        values = asdict(self)
        values["details"] = dict(self.details)
        extra = changes.pop("details", None)
        if extra:
            values["details"].update(extra)
        values.update(changes)
        return Estimate(**values)

    def __repr__(self) -> str:
        return (f"Estimate(value={self.value:.6g}, stderr={self.stderr:.3g}, "
                f"n={self.n}, d={self.d}, k={self.k}, method={self.method!r})")


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _json_safe(obj.item())
    return obj
