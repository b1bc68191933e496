"""Shared machinery of the speed benchmarks: child processes, timing, peak memory, output.

Every measured call runs in its own child process (``python benchmarks/common.py
--child SPEC``). That keeps the OpenMP/BLAS runtimes of different libraries out of
each other's way (idle runtimes spin and steal the second core; benchmarks/NOTES.md),
lets a time cap kill a peer that would run for hours, and gives an exact peak
memory: the child resets the kernel's high-water mark (``/proc/self/clear_refs``)
right before the timed call and reads ``VmHWM`` after it.

A target is ``"module:function"`` with ``module`` a file in benchmarks/; it takes
keyword arguments and returns a JSON-serialisable dict, normally built by
:func:`measure`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: environment of every child: passive OpenMP waiting (NOTES.md) unless the caller set one
CHILD_ENV = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}


# ---------------------------------------------------------------------------- child side

def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure(fn, *, repeats: int = 1, warmup=None) -> dict:
    """Time ``fn()`` (best of ``repeats``) and its peak resident memory.

    Parameters
    ----------
    fn : callable
        The work; its return value is kept (from the last repeat) under ``"out"``.
    repeats : int
        Timed calls; the minimum is reported, the rest listed.
    warmup : callable, optional
        Called once before timing (JIT compilation, caches), not timed.

    Returns
    -------
    dict
        ``seconds`` (best), ``all_seconds``, ``rss_before_mib`` (resident memory before
        the first timed call), ``peak_rss_mib`` (high-water mark during the timed calls)
        and ``working_mib`` (their difference: memory the call itself needed), ``out``.
    """
    if warmup is not None:
        warmup()
    rss_before = _status_kib("VmRSS")
    exact = _reset_peak()
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    peak = _status_kib("VmHWM") if exact else -1
    return {"seconds": min(times), "all_seconds": times,
            "rss_before_mib": rss_before / 1024, "peak_rss_mib": peak / 1024,
            "working_mib": (peak - rss_before) / 1024 if exact else None, "out": out}


def probe_allocation(mib: int, sleep: float = 0.0) -> dict:
    """Harness self-check: allocate and touch ``mib`` MiB inside :func:`measure`."""
    import numpy as np

    def work():
        block = np.ones(mib * 1024 * 1024 // 8)
        time.sleep(sleep)
        return float(block[-1])

    return measure(work)


def _child_main(spec_json: str) -> None:
    import importlib

    spec = json.loads(spec_json)
    sys.path.insert(0, str(HERE))
    module_name, func_name = spec["target"].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    result = func(**spec.get("kwargs", {}))
    sys.stdout.write("\n@@RESULT@@" + json.dumps(result, default=_jsonable) + "\n")
    sys.stdout.flush()


def _jsonable(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


# --------------------------------------------------------------------------- parent side

def run_child(target: str, *, timeout: float, env: dict | None = None, **kwargs) -> dict:
    """Run ``target(**kwargs)`` in a fresh interpreter, killed after ``timeout`` seconds.

    Returns the target's dict, or ``{"error": ..., "timed_out": bool}`` on failure.
    ``wall_seconds`` (start-up and imports included) is added either way.
    """
    spec = json.dumps({"target": target, "kwargs": kwargs})
    child_env = {**os.environ, **CHILD_ENV, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(HERE), child_env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(HERE / "common.py"), "--child", spec],
                              capture_output=True, text=True, timeout=timeout, env=child_env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "timed_out": True,
                "wall_seconds": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    marker = proc.stdout.rfind("@@RESULT@@")
    if proc.returncode != 0 or marker < 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit status {proc.returncode}",
                "timed_out": False, "wall_seconds": wall}
    result = json.loads(proc.stdout[marker + len("@@RESULT@@"):])
    result["wall_seconds"] = wall
    return result


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def machine_info() -> dict:
    """CPU, memory, load, library versions and BLAS builds, for the JSON header."""
    info = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "host_cpu": _cpu_model(), "logical_cpus": os.cpu_count(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                / 1024**3, 1),
            "load_average_1_5_15": load_average(), "python": platform.python_version(),
            "omp_wait_policy": CHILD_ENV["OMP_WAIT_POLICY"], "git_commit": _git_commit()}
    versions = {}
    for name in ("hpx_uncert", "numpy", "scipy", "numba", "faiss", "sklearn", "infomeasure",
                 "entropy_estimators", "psutil"):
        versions[name] = _version_of(name)
    info["versions"] = versions
    info["blas"] = _blas_info()
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _version_of(name: str) -> str | None:
    from importlib import metadata

    dist = {"faiss": "faiss-cpu", "sklearn": "scikit-learn",
            "entropy_estimators": "entropy_estimators"}.get(name, name)
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _blas_info() -> list[dict]:
    """BLAS/OpenMP libraries loaded by numpy, scipy, faiss (from a child, to load them all)."""
    code = ("import json, numpy, scipy.linalg, faiss\n"
            "from threadpoolctl import threadpool_info\n"
            "print(json.dumps([{k: i.get(k) for k in ('internal_api', 'architecture', "
            "'version', 'num_threads', 'filepath')} for i in threadpool_info()]))")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, env={**os.environ, **CHILD_ENV})
        rows = json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return []
    for row in rows:
        row["filepath"] = os.path.basename(row["filepath"] or "")
    return rows


def write_json(path: Path, payload: dict) -> Path:
    """Write ``payload`` (with a ``machine`` header added) atomically as indented JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    os.replace(tmp, path)
    return path


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table from a header and rows of printable cells."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(header)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    return "\n".join([line, rule, *body])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return "nan"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 1:
            return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
        return f"{value:.3g}"
    return str(value)


def fmt_seconds(seconds) -> str:
    if seconds is None:
        return ""
    return f"{seconds:.3g}" if seconds < 100 else f"{seconds:.0f}"


def default_out_dir() -> Path:
    return HERE / "out"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child_main(sys.argv[2])
    else:
        sys.exit("usage: common.py --child SPEC (internal; run roofline.py, peers.py or "
                 "scaling.py instead)")
