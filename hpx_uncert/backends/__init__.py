"""Compute backends: ``cpu`` (numpy, numba, faiss-cpu) and ``cuda`` (CuPy, numba.cuda).

Every public function that does heavy work takes ``device="auto" | "cpu" | "cuda" |
"cuda:0,1"``. This module turns that string into a :class:`DeviceSpec`, decides
what ``"auto"`` means on this machine (and logs the choice), and answers which
backends are usable. Nothing here imports CuPy or numba at import time.

Examples
--------
>>> parse_device("cuda:0,1")
DeviceSpec(kind='cuda', ids=(0, 1))
>>> parse_device("cpu")
DeviceSpec(kind='cpu', ids=())
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: what to tell a user who asked for CUDA on a machine without the GPU stack
CUDA_INSTALL_HINT = ("install the GPU extra with `pip install 'hpx_uncert[gpu]'` (CuPy and "
                     "numba-cuda for CUDA 13) on a machine with an NVIDIA GPU and a CUDA "
                     "driver, or run with device='cpu'")

_DEVICE_RE = re.compile(r"^cuda(?::(\d+(?:,\d+)*))?$")


class BackendUnavailableError(RuntimeError):
    """An explicitly requested backend cannot run here (missing package, driver or GPU)."""


@dataclass(frozen=True)
class DeviceSpec:
    """Where to compute.

    Parameters
    ----------
    kind : {"auto", "cpu", "cuda"}
    ids : tuple of int
        CUDA device ordinals (as numbered inside ``CUDA_VISIBLE_DEVICES``); empty means
        "all visible devices" for ``cuda`` and nothing for ``cpu``/``auto``.
    """

    kind: str
    ids: tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.kind == "cuda" and self.ids:
            return "cuda:" + ",".join(str(i) for i in self.ids)
        return self.kind


def parse_device(device) -> DeviceSpec:
    """Parse a device string.

    Parameters
    ----------
    device : str or DeviceSpec
        ``"auto"``, ``"cpu"``, ``"cuda"`` (all visible GPUs) or ``"cuda:0,1"`` (the
        listed ordinals). Case and surrounding spaces are ignored.

    Returns
    -------
    DeviceSpec

    Raises
    ------
    ValueError
        For anything else, or a repeated ordinal.
    """
    if isinstance(device, DeviceSpec):
        return device
    if not isinstance(device, str):
        raise ValueError(f"device must be a string such as 'auto', 'cpu', 'cuda' or "
                         f"'cuda:0,1'; got {device!r} of type {type(device).__name__}.")
    text = device.strip().lower().replace(" ", "")
    if text in ("auto", "cpu"):
        return DeviceSpec(text)
    match = _DEVICE_RE.match(text)
    if match is None:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<ids>' with "
                         f"comma-separated GPU ordinals such as 'cuda:0,1'; got {device!r}.")
    ids = tuple(int(i) for i in match.group(1).split(",")) if match.group(1) else ()
    if len(set(ids)) != len(ids):
        raise ValueError(f"device {device!r} lists a GPU more than once; name each ordinal "
                         f"once, e.g. 'cuda:0,1'.")
    return DeviceSpec("cuda", ids)


def cuda_problem() -> str | None:
    """Why the CUDA backend cannot run here, or ``None`` when it can."""
    from .cuda import unavailable_reason

    return unavailable_reason()


def available_backends() -> dict[str, str | None]:
    """Backend name -> ``None`` when usable, else the reason it is not."""
    return {"cpu": None, "cuda": cuda_problem()}


def resolve_device(device="auto") -> DeviceSpec:
    """Turn a request into a concrete device, checking that it can run.

    ``"auto"`` picks CUDA (all visible GPUs) when the GPU stack and a device are
    present, else the CPU, and logs the choice at INFO level. An explicit ``"cuda"``
    request on a machine without the GPU stack is an error naming the fix; listed
    ordinals must exist.

    Parameters
    ----------
    device : str or DeviceSpec

    Returns
    -------
    DeviceSpec
        ``kind`` is ``"cpu"`` or ``"cuda"``, never ``"auto"``; a ``cuda`` spec has
        its ``ids`` filled in.

    Raises
    ------
    BackendUnavailableError
        ``cuda`` requested but unusable here, or an ordinal beyond the visible GPUs.
    """
    spec = parse_device(device)
    if spec.kind == "cpu":
        return spec
    problem = cuda_problem()
    if spec.kind == "auto":
        if problem is None:
            chosen = DeviceSpec("cuda", tuple(range(_cuda_device_count())))
            log.info("device='auto' chose %s", chosen)
            return chosen
        log.info("device='auto' chose cpu (CUDA not usable: %s)", problem)
        return DeviceSpec("cpu")
    if problem is not None:
        raise BackendUnavailableError(f"device={str(spec)!r} was requested but CUDA is not "
                                      f"usable here: {problem}. To fix it, {CUDA_INSTALL_HINT}.")
    count = _cuda_device_count()
    ids = spec.ids or tuple(range(count))
    missing = [i for i in ids if i >= count]
    if missing:
        raise BackendUnavailableError(f"device={str(spec)!r} names GPU ordinal(s) {missing} "
                                      f"but only {count} GPU(s) are visible (ordinals 0.."
                                      f"{count - 1}, as numbered inside CUDA_VISIBLE_DEVICES).")
    return DeviceSpec("cuda", ids)


def _cuda_device_count() -> int:
    from .cuda import device_count

    return device_count()
