"""Time and peak memory of hpx_uncert against N, d, the number of groups, and end to end.

Each point runs in a fresh child process (benchmarks/common.py), which reports the
time of the call and its working memory: the peak resident memory during the call
minus the memory held before it (the input samples are already loaded then). The
memory budget is passed explicitly and the table says whether the working memory
stayed within it, next to the size of what the call must hold anyway (its result).

Series:

- ``n``: full entropy estimate (``correction=None``, jackknife included) at d = 81
  and d = 4 against N, with a 256 MiB budget;
- ``d``: the same at N = 2e4 against d;
- ``groups``: batched conditional entropy, M = 256 samples per group, d = 81,
  against the number of groups G;
- ``evaluate``: ``hpx_uncert.evaluate`` end to end on a synthetic archive written to
  disk (linear-Gaussian, one model, M = 64, d = 16) up to 10^6 pooled samples,
  ``pooled_queries = 10^4``, 512 MiB budget.

Usage::

    python benchmarks/scaling.py [--quick] [--out DIR] [--series n,d,groups,evaluate]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (REPO, default_out_dir, fmt_seconds, load_average,  # noqa: E402
                    machine_info, markdown_table, measure, run_child, write_json)

K = 5
MIB = 1024**2


def entropy_point(n: int, d: int, budget: int, seed: int = 0) -> dict:
    """Full entropy estimate of N standard normal points in d dimensions."""
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numpy as np

    from hpx_uncert import entropy

    x = np.random.default_rng(seed).standard_normal((n, d))
    entropy(x[:300], k=K)
    res = measure(lambda: entropy(x, k=K, memory_budget=budget))
    est = res.pop("out")
    res.update(value=est.value, stderr=est.stderr, method=est.details.get("knn_method"),
               result_mib=n * (K + 3) * 16 / MIB)
    return res


def groups_point(groups: int, m: int, d: int, seed: int = 0) -> dict:
    """Batched conditional entropy of G groups of M points."""
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numpy as np

    from hpx_uncert import conditional_entropy

    x = np.random.default_rng(seed).standard_normal((groups, m, d))
    conditional_entropy(x[:2], k=K)
    res = measure(lambda: conditional_entropy(x, k=K))
    est = res.pop("out")
    res.update(value=est.value, method=est.details.get("knn_method"),
               result_mib=groups * m * K * 8 / MIB)
    return res


def evaluate_point(archive: str, budget: int, queries: int) -> dict:
    """``evaluate`` end to end on an archive on disk (one model, no figures)."""
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from hpx_uncert.evaluate import evaluate

    res = measure(lambda: evaluate(archive, figures=False, progress=False,
                                   models=("isotropic",), pooled_queries=queries,
                                   memory_budget=budget))
    report = res.pop("out")
    model = report["models"]["isotropic"]
    res["uncertainty_pooled"] = (model.get("uncertainty_pooled") or {}).get("value")
    res["uncertainty"] = (model.get("uncertainty") or {}).get("value")
    res["result_mib"] = 0.0
    return res


def _write_archive(path: Path, measurements: int, samples: int, dim: int) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "tools" / "synth_archive.py"), "linear-gaussian",
                    str(path), "--measurements", str(measurements), "--samples", str(samples),
                    "--dim", str(dim), "--float32"], check=True, capture_output=True)
    return time.perf_counter() - t0


def run(quick: bool = False, out_dir: Path | None = None, series=None,
        verbose: bool = True) -> dict:
    """Run the scaling series; write ``scaling.json`` and ``scaling.md``."""
    out_dir = Path(out_dir or default_out_dir())
    log = print if verbose else (lambda *a, **k: None)
    series = tuple(series or ("n", "d", "groups", "evaluate"))
    budget = 256 * MIB
    if quick:
        plan = {"n": [(81, 5_000), (81, 20_000), (4, 20_000), (4, 200_000)],
                "d": [(20_000 // 4, d) for d in (4, 16, 81)],
                "groups": [100, 1_000], "evaluate": [200, 2_000]}
    else:
        plan = {"n": [(81, 10_000), (81, 30_000), (81, 100_000), (4, 10_000), (4, 100_000),
                      (4, 1_000_000)],
                "d": [(20_000, d) for d in (2, 4, 8, 16, 32, 81, 243)],
                "groups": [100, 1_000, 10_000], "evaluate": [1_000, 4_000, 15_625]}
    payload = {"machine": machine_info(), "quick": quick, "k": K,
               "budget_mib": budget / MIB, "series": {}}
    t_start = time.perf_counter()
    if "n" in series or "d" in series:
        for name in ("n", "d"):
            if name not in series:
                continue
            rows = []
            for entry in plan[name]:
                d, n = entry if name == "n" else (entry[1], entry[0])
                res = run_child("scaling:entropy_point", timeout=900, n=n, d=d, budget=budget)
                rows.append({"n": n, "d": d, **res})
                log(f"entropy N={n} d={d}: {_brief(res)}")
            payload["series"][name] = rows
    if "groups" in series:
        rows = []
        for g in plan["groups"]:
            res = run_child("scaling:groups_point", timeout=900, groups=g, m=256, d=81)
            rows.append({"groups": g, "m": 256, "d": 81, **res})
            log(f"conditional G={g} M=256 d=81: {_brief(res)}")
        payload["series"]["groups"] = rows
    if "evaluate" in series:
        rows = []
        work = out_dir / "archives"
        work.mkdir(parents=True, exist_ok=True)
        try:
            for g in plan["evaluate"]:
                path = work / f"lg_{g}.h5"
                write_s = _write_archive(path, g, 64, 16)
                res = run_child("scaling:evaluate_point", timeout=1200, archive=str(path),
                                budget=512 * MIB, queries=10_000)
                res.update(measurements=g, samples=g * 64, d=16, write_seconds=write_s,
                           archive_mib=path.stat().st_size / MIB, budget_mib=512)
                rows.append(res)
                log(f"evaluate G={g} ({g * 64} samples/model): {_brief(res)}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        payload["series"]["evaluate"] = rows
    payload["elapsed_seconds"] = time.perf_counter() - t_start
    payload["load_average_after"] = load_average()
    text = render(payload)
    write_json(out_dir / "scaling.json", payload)
    (out_dir / "scaling.md").write_text(text + "\n")
    if verbose:
        print(text)
    return payload


def _brief(res: dict) -> str:
    if "error" in res:
        return res["error"]
    return f"{res['seconds']:.3g} s, {res.get('working_mib') or 0:.0f} MiB working"


def _within(res: dict, budget_mib: float) -> str:
    w = res.get("working_mib")
    if w is None:
        return "?"
    return "yes" if w <= budget_mib + res.get("result_mib", 0.0) else "NO"


def render(payload: dict) -> str:
    budget = payload["budget_mib"]
    parts = [f"k = {payload['k']}; working memory = peak RSS during the call minus RSS "
             f"before it (inputs already loaded); 'within' = working <= budget + result "
             f"arrays. Load average before/after: {payload['machine']['load_average_1_5_15']}"
             f" / {payload.get('load_average_after')}.", ""]
    s = payload["series"]
    for name, title in (("n", f"Entropy (full estimate) against N, budget {budget:.0f} MiB"),
                        ("d", f"Entropy (full estimate) against d, budget {budget:.0f} MiB")):
        if name not in s:
            continue
        rows = [[r["d"], r["n"], r.get("method"), fmt_seconds(r.get("seconds")),
                 r.get("working_mib"), r.get("result_mib"), _within(r, budget),
                 r.get("error")] for r in s[name]]
        parts += [title, "", markdown_table(["d", "N", "route", "seconds", "working MiB",
                                             "result MiB", "within", "error"], rows), ""]
    if "groups" in s:
        rows = [[r["groups"], r["m"], r["d"], fmt_seconds(r.get("seconds")),
                 (r["seconds"] / r["groups"] * 1e3) if "seconds" in r else None,
                 r.get("working_mib"), r.get("error")] for r in s["groups"]]
        parts += ["Batched conditional entropy against the number of groups", "",
                  markdown_table(["G", "M", "d", "seconds", "ms per group", "working MiB",
                                  "error"], rows), ""]
    if "evaluate" in s:
        rows = [[r["measurements"], r["samples"], r["d"], round(r["archive_mib"]),
                 fmt_seconds(r["write_seconds"]), fmt_seconds(r.get("seconds")),
                 r.get("working_mib"), r["budget_mib"],
                 "yes" if (r.get("working_mib") or 0) <= r["budget_mib"] else "NO",
                 r.get("uncertainty_pooled"), r.get("error")] for r in s["evaluate"]]
        parts += ["`evaluate` end to end (archive on disk, model 'isotropic', all its "
                  "quantities, pooled_queries = 1e4)", "",
                  markdown_table(["G", "samples", "d", "archive MiB", "write s", "evaluate s",
                                  "working MiB", "budget MiB", "within",
                                  "uncertainty_pooled", "error"], rows), ""]
    return "\n".join(parts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--series", default=None,
                        help="comma-separated subset of n,d,groups,evaluate")
    args = parser.parse_args(argv)
    run(quick=args.quick, out_dir=args.out,
        series=args.series.split(",") if args.series else None)


if __name__ == "__main__":
    main()
