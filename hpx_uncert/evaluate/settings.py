"""Settings of an evaluation run and the stable hash that names its partial results."""

from __future__ import annotations

import hashlib
import json
import numbers
from dataclasses import asdict, dataclass, field, fields

#: Version of the partial-result format; part files from another version never merge.
PARTS_FORMAT = 2

#: Fields that change no reported number (only speed and memory); left out of the hash
#: so a run resumed or sharded with another budget or device still merges.
RUNTIME_FIELDS = ("memory_budget", "device", "progress")


@dataclass(frozen=True)
class Settings:
    """Everything that decides the numbers an evaluation reports.

    Parameters
    ----------
    k : int, default 5
        Neighbour order of every k-NN estimator.
    correction : str or None, default None
        Bias correction of the per-measurement k-NN estimates, a name registered in
        ``hpx_uncert.estimators.corrections`` (e.g. ``"whiten"``); ``None`` keeps the
        textbook estimators.
    perception_correction : str or None, default "gaussian"
        Bias correction of the per-measurement k-NN divergences (``perception``,
        ``hellinger2``, ``kl``). The default Gaussian-surrogate correction measured
        best at the small per-measurement sample sizes of posterior archives
        (d = 4, 300 vs 300 draws: textbook D_1/2 -0.07 vs exact 0.89, corrected
        0.93; docs/bias.md); ``None`` gives the textbook estimator.
    duplicates : {"raise", "drop"}, default "raise"
        Policy for zero k-NN radii (duplicate samples), see
        ``hpx_uncert.estimators.duplicates``.
    models : tuple of str or None
        Models to evaluate (default: every model of the archive), reported in
        sorted order.
    patch, stride : int or None
        Patch size and stride for ``layout="image"`` archives (estimators then work on
        ``C*patch*patch`` vectors); ignored for vector archives.
    centre : bool or None, default None
        Per-location centring of the samples of each measurement of an image archive
        before the per-measurement estimates (``spread``, ``inherent_uncertainty``,
        ``perception``, ``hellinger2``, ``kl`` and their Gaussian twins), so that they
        describe the posterior at each location instead of the image content across
        locations (docs/evaluate.md). ``None`` means on for image archives, off for
        vector archives; :func:`hpx_uncert.evaluate.run.prepare` resolves it before
        the settings are hashed. Vector archives refuse ``True``.
    pooled_queries : int or None
        Query points of the pooled k-NN estimates (``uncertainty_pooled``,
        ``perception_pooled``), drawn without replacement with ``seed``; every sample
        stays a neighbour candidate. ``None`` queries every sample.
    seed : int, default 0
        Seed of every random choice (the pooled query subsample).
    jackknife_blocks : int, default 20
        Blocks of measurements (``index mod blocks``) for the jackknife standard
        errors of pooled quantities.
    data_range : float or None
        Peak-to-peak range of the signal for PSNR; ``None`` reads the archive's root
        attribute ``data_range`` (no PSNR without one).
    memory_budget : int, default 2 GiB
        Bytes a work unit may hold in data blocks and neighbour-search arrays.
        Not part of the hash: it changes speed, not results.
    device : str, default "cpu"
        Where neighbour searches run (``"cpu"``, ``"cuda"``, ``"auto"``). Not hashed.
    progress : bool or None
        Show progress bars; ``None`` shows them only when stderr is a terminal.
    """

    k: int = 5
    correction: str | None = None
    perception_correction: str | None = "gaussian"
    duplicates: str = "raise"
    models: tuple | None = None
    patch: int | None = None
    stride: int | None = None
    centre: bool | None = None
    pooled_queries: int | None = None
    seed: int = 0
    jackknife_blocks: int = 20
    data_range: float | None = None
    memory_budget: int = 2 * 2**30
    device: str = "cpu"
    progress: bool | None = field(default=None, compare=False)

    def __post_init__(self):
        _positive_int(self.k, "k")
        if self.duplicates not in ("raise", "drop"):
            raise ValueError(f"duplicates must be 'raise' or 'drop'; got {self.duplicates!r}.")
        if self.models is not None:
            if isinstance(self.models, str):
                object.__setattr__(self, "models", (self.models,))
            object.__setattr__(self, "models", tuple(sorted(set(self.models))))
            if not self.models:
                raise ValueError("models is empty; pass None to evaluate every model.")
        for name in ("patch", "stride", "pooled_queries"):
            if getattr(self, name) is not None:
                _positive_int(getattr(self, name), name)
        if self.stride is not None and self.patch is None:
            raise ValueError("stride needs patch; pass patch=P as well (e.g. patch=9, stride=4).")
        if self.centre is not None and not isinstance(self.centre, bool):
            raise ValueError(f"centre must be True, False or None (on for image archives); "
                             f"got {self.centre!r}.")
        _positive_int(self.jackknife_blocks, "jackknife_blocks", minimum=2)
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) \
                or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int; got {self.seed!r}.")
        if self.data_range is not None:
            if not isinstance(self.data_range, numbers.Real) or not self.data_range > 0:
                raise ValueError(f"data_range must be a positive number; got "
                                 f"{self.data_range!r}.")
            object.__setattr__(self, "data_range", float(self.data_range))
        _positive_int(self.memory_budget, "memory_budget")

    def hashed(self) -> dict:
        """The settings that decide the reported numbers, as a JSON-ready dict."""
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name not in RUNTIME_FIELDS}
        out["models"] = list(self.models) if self.models is not None else None
        out["parts_format"] = PARTS_FORMAT
        return out

    def digest(self) -> str:
        """Hex SHA-256 of :meth:`hashed` (canonical JSON): equal digests, equal numbers."""
        text = json.dumps(self.hashed(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_dict(self) -> dict:
        out = asdict(self)
        out["models"] = list(self.models) if self.models is not None else None
        return out


def _positive_int(value, name: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"The '{name}' parameter must be an int in the range "
                         f"[{minimum}, inf). Got {value!r} instead.")
