"""hpx_uncert side by side with peer libraries: same data, same N, d, k, same formula.

Every implementation computes the *same number* (Euclidean norm, ``correction=None``,
the textbook Kozachenko-Leonenko / Wang-Kulkarni-Verdu / Poczos-Schneider formulas),
each in its own child process (benchmarks/common.py), one after another in one run;
the tables give the value, its difference from hpx_uncert's, the time, the ratio
``time(peer) / time(hpx_uncert)`` and the working memory (peak resident memory
during the call minus the memory held before it).

Peers and the conventions converted so the numbers agree:

- ``infomeasure`` KL entropy with ``minkowski_p=2, noise_level=0`` (its default is the
  max-norm plus 1e-10 jitter); its KL divergence ``H_Q(P) - H(P)`` averages the cross
  term over |Q| and uses ``psi(m) - psi(n)`` in place of ``log(m / (n-1))``: with
  ``n = m`` (as here) it differs from Wang-Kulkarni-Verdu by exactly ``log(n / (n-1))``,
  which is added back. Its kd-tree query is single-threaded (no option).
- ``entropy_estimators.get_h(norm="euclidean", workers=2)``: its Euclidean path uses
  ``log(2 eps)`` with the unit-ball volume, ``+ d log 2`` too much; subtracted.
- scikit-learn ``NearestNeighbors`` (``algorithm="brute"`` and ``"kd_tree"``,
  ``n_jobs=2``), scipy ``cKDTree`` (``workers=2``) and plain faiss (``faiss.knn``,
  float32 flat) give the k-NN distances; the estimator formula on top is the same
  few lines of numpy for all of them (:func:`kl_entropy_from`, :func:`wkv_from`,
  :func:`renyi_from`). faiss's float32 distances are used as they come (no float64
  re-measure), so its values differ from the exact ones by float32 round-off.

Peers whose time at the next size is predicted (``t * (N'/N)^2``) to exceed the cap
are not run there; a peer that hits the cap is killed. Ratios are quoted only
where both ran on the same data.

Usage::

    python benchmarks/peers.py [--quick] [--out DIR] [--cap SECONDS]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (default_out_dir, fmt_seconds, load_average, machine_info,  # noqa: E402
                    markdown_table, measure, run_child, write_json)

K = 5
ALPHA = 0.5
OURS = "hpx_uncert"
ENTROPY_PEERS = ("infomeasure", "entropy_estimators", "sklearn-brute", "sklearn-kdtree",
                 "scipy-ckdtree", "faiss-flat")
DIVERGENCE_PEERS = ("infomeasure", "sklearn-brute", "sklearn-kdtree", "scipy-ckdtree",
                    "faiss-flat")
GROUP_PEERS = ("faiss-flat", "scipy-ckdtree", "entropy_estimators", "infomeasure",
               "sklearn-brute")


# ----------------------------------------------------------------------------- data

def samples(n: int, d: int, seed: int):
    """p: standard normal (n, d); q: N(0.25, 1.1^2 I) (n, d), both float64."""
    import numpy as np

    p = np.random.default_rng(seed).standard_normal((n, d))
    q = 0.25 + 1.1 * np.random.default_rng(seed + 1).standard_normal((n, d))
    return p, q


# ---------------------------------------------------------------- shared formulas

def kl_entropy_from(radii, n: int, d: int, k: int) -> float:
    """Kozachenko-Leonenko entropy from k-th neighbour distances (n,)."""
    import numpy as np
    from scipy.special import digamma, gammaln

    log_vd = 0.5 * d * math.log(math.pi) - gammaln(0.5 * d + 1.0)
    return float(digamma(n) - digamma(k) + log_vd + d * np.mean(np.log(radii)))


def wkv_from(rho, nu, n: int, m: int, d: int) -> float:
    """Wang-Kulkarni-Verdu KL divergence from rho (within p) and nu (p among q)."""
    import numpy as np

    return float(d * np.mean(np.log(nu) - np.log(rho)) + math.log(m / (n - 1)))


def renyi_from(rho, nu, n: int, m: int, d: int, k: int, alpha: float) -> float:
    """Poczos-Schneider Renyi divergence of order alpha, summed in the log domain."""
    import numpy as np
    from scipy.special import gammaln, logsumexp

    log_b = 2 * gammaln(k) - gammaln(k - alpha + 1) - gammaln(k + alpha - 1)
    terms = (1 - alpha) * (math.log(n - 1) - math.log(m) + d * (np.log(rho) - np.log(nu)))
    return float((logsumexp(terms) - math.log(n) + log_b) / (alpha - 1))


# --------------------------------------------------------------- k-NN by each peer

def _faiss():
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    return faiss


def peer_self_knn(peer: str, x, k: int):
    """k-th neighbour distance of each point among the others (exclusion by index)."""
    import numpy as np

    if peer == "sklearn-brute" or peer == "sklearn-kdtree":
        from sklearn.neighbors import NearestNeighbors

        algo = "brute" if peer == "sklearn-brute" else "kd_tree"
        nn = NearestNeighbors(n_neighbors=k, algorithm=algo, n_jobs=2).fit(x)
        return nn.kneighbors()[0][:, k - 1]
    if peer == "scipy-ckdtree":
        from scipy.spatial import cKDTree

        dist, idx = cKDTree(x).query(x, k + 1, workers=2)
        return _drop_self(dist, idx, k)
    if peer == "faiss-flat":
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        sq, idx = _faiss().knn(x32, x32, k + 1)
        return np.sqrt(np.maximum(_drop_self(sq, idx, k), 0.0).astype(np.float64))
    raise ValueError(f"no k-NN route for peer {peer!r}")


def peer_cross_knn(peer: str, query, data, k: int):
    """k-th neighbour distance of each query point among ``data``."""
    import numpy as np

    if peer == "sklearn-brute" or peer == "sklearn-kdtree":
        from sklearn.neighbors import NearestNeighbors

        algo = "brute" if peer == "sklearn-brute" else "kd_tree"
        nn = NearestNeighbors(n_neighbors=k, algorithm=algo, n_jobs=2).fit(data)
        return nn.kneighbors(query)[0][:, k - 1]
    if peer == "scipy-ckdtree":
        from scipy.spatial import cKDTree

        return cKDTree(data).query(query, k, workers=2)[0][:, k - 1]
    if peer == "faiss-flat":
        sq, _ = _faiss().knn(np.ascontiguousarray(query, dtype=np.float32),
                             np.ascontiguousarray(data, dtype=np.float32), k)
        return np.sqrt(np.maximum(sq[:, k - 1], 0.0).astype(np.float64))
    raise ValueError(f"no k-NN route for peer {peer!r}")


def _drop_self(dist, idx, k):
    """The k-th entry per row after removing the row's own index (or the last column)."""
    import numpy as np

    own = idx == np.arange(len(idx))[:, None]
    own[~own.any(axis=1), -1] = True
    order = np.argsort(own, axis=1, kind="stable")  # non-self entries first, in order
    return np.take_along_axis(dist, order, axis=1)[:, k - 1]


def peer_entropy(peer: str, x, k: int) -> float:
    n, d = x.shape
    if peer == "infomeasure":
        import infomeasure as im

        return float(im.entropy(x, approach="kl", k=k, minkowski_p=2, noise_level=0))
    if peer == "entropy_estimators":
        from entropy_estimators import continuous

        return float(continuous.get_h(x, k=k, norm="euclidean", workers=2)) - d * math.log(2)
    return kl_entropy_from(peer_self_knn(peer, x, k), n, d, k)


# ------------------------------------------------------------- child-side targets

def _prepare_threads():
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def ours_entropy(n: int, d: int, k: int = K, seed: int = 0) -> dict:
    """hpx_uncert: full entropy (value + jackknife stderr) and the bare k-NN stage."""
    _prepare_threads()
    from hpx_uncert import entropy
    from hpx_uncert.estimators.stderr import JACKKNIFE_EXTRA
    from hpx_uncert.neighbors import knn_distances

    x, _ = samples(n, d, seed)
    warm = x[:200]
    knn = measure(lambda: knn_distances(x, k=k + JACKKNIFE_EXTRA).method,
                  warmup=lambda: knn_distances(warm, k=k))
    full = measure(lambda: entropy(x, k=k, correction=None))
    est = full.pop("out")
    full.update(value=est.value, stderr=est.stderr, method=est.details.get("knn_method"))
    knn["method"] = knn.pop("out")
    return {"full": full, "knn": knn}


def peers_entropy(peer: str, n: int, d: int, k: int = K, seed: int = 0) -> dict:
    _prepare_threads()
    x, _ = samples(n, d, seed)
    # imports and first-call set-up of the peer stay outside the timing
    res = measure(lambda: peer_entropy(peer, x, k), warmup=lambda: peer_entropy(peer, x[:50], k))
    res["value"] = res.pop("out")
    return res


def ours_divergence(n: int, d: int, k: int = K, seed: int = 0) -> dict:
    """hpx_uncert: full KL and Renyi-1/2 estimates (each with its jackknife stderr)."""
    _prepare_threads()
    from hpx_uncert import kl_divergence, renyi_divergence
    from hpx_uncert.neighbors import knn_distances

    p, q = samples(n, d, seed)
    knn_distances(p[:200], k=k)
    out = {}
    for name, fn in (("kl", lambda: kl_divergence(p, q, k=k, correction=None)),
                     ("renyi", lambda: renyi_divergence(p, q, alpha=ALPHA, k=k,
                                                        correction=None))):
        res = measure(fn)
        est = res.pop("out")
        res.update(value=est.value, stderr=est.stderr, method=est.details.get("knn_method"))
        out[name] = res
    return out


def peers_divergence(peer: str, n: int, d: int, k: int = K, seed: int = 0) -> dict:
    """KL and Renyi from one pair of neighbour searches (both need rho and nu)."""
    _prepare_threads()
    p, q = samples(n, d, seed)
    if peer == "infomeasure":
        import infomeasure as im

        def kld(a, b):
            return float(im.kld(a, b, approach="kl", k=k, minkowski_p=2, noise_level=0)) \
                + math.log(len(a) / (len(a) - 1))

        kl = measure(lambda: kld(p, q), warmup=lambda: kld(p[:50], q[:50]))
        kl["value"] = kl.pop("out")
        return {"kl": kl}

    def search(a, b):
        return peer_self_knn(peer, a, k), peer_cross_knn(peer, a, b, k)

    searched = measure(lambda: search(p, q), warmup=lambda: search(p[:50], q[:50]))
    rho, nu = searched.pop("out")
    t0 = time.perf_counter()
    kl_value = wkv_from(rho, nu, n, n, d)
    t_kl = time.perf_counter() - t0
    t0 = time.perf_counter()
    renyi_value = renyi_from(rho, nu, n, n, d, k, ALPHA)
    t_renyi = time.perf_counter() - t0
    kl = {**searched, "seconds": searched["seconds"] + t_kl, "value": kl_value}
    renyi = {**searched, "seconds": searched["seconds"] + t_renyi, "value": renyi_value}
    return {"kl": kl, "renyi": renyi}


def group_samples(groups: int, m: int, d: int, seed: int):
    import numpy as np

    p = np.random.default_rng(seed).standard_normal((groups, m, d))
    q = 0.25 + 1.1 * np.random.default_rng(seed + 1).standard_normal((groups, m, d))
    return p, q


def ours_conditional(groups: int, m: int, d: int, k: int = K, seed: int = 0) -> dict:
    """hpx_uncert: batched conditional entropy and KL over all groups at once."""
    _prepare_threads()
    import numpy as np

    from hpx_uncert import conditional_entropy, conditional_kl_divergence

    p, q = group_samples(groups, m, d, seed)
    conditional_entropy(p[:2], k=k)  # compile the grouped kernel outside the timing
    conditional_kl_divergence(p[:2], q[:2], k=k)
    out = {}
    for name, fn in (("entropy", lambda: conditional_entropy(p, k=k)),
                     ("kl", lambda: conditional_kl_divergence(p, q, k=k))):
        res = measure(fn)
        est = res.pop("out")
        res.update(value=est.value, group_values=np.asarray(est.details["group_values"]),
                   method=est.details.get("knn_method"))
        out[name] = res
    return out


def peers_conditional(peer: str, groups: int, m: int, d: int, k: int = K, seed: int = 0,
                      seconds: float = 30.0) -> dict:
    """Loop the peer over groups until done or ``seconds`` spent; per-group values."""
    _prepare_threads()
    import numpy as np

    p, q = group_samples(groups, m, d, seed)
    out = {}
    for name in ("entropy", "kl"):
        if name == "kl" and peer == "entropy_estimators":
            continue  # entropy_estimators has no KL divergence estimator
        values = []

        def loop():
            t_end = time.perf_counter() + seconds
            for g in range(groups):
                if name == "entropy":
                    values.append(peer_entropy(peer, p[g], k))
                elif peer == "infomeasure":
                    import infomeasure as im

                    values.append(float(im.kld(p[g], q[g], approach="kl", k=k, minkowski_p=2,
                                               noise_level=0)) + math.log(m / (m - 1)))
                else:
                    rho = peer_self_knn(peer, p[g], k)
                    nu = peer_cross_knn(peer, p[g], q[g], k)
                    values.append(wkv_from(rho, nu, m, m, d))
                if time.perf_counter() > t_end:
                    break

        res = measure(loop, warmup=lambda: (peer_entropy(peer, p[0], k), values.clear()))
        res.pop("out")
        done = len(values)
        res.update(groups_done=done, group_values=np.asarray(values),
                   seconds_per_group=res["seconds"] / done,
                   seconds_all_groups=res["seconds"] / done * groups,
                   extrapolated=done < groups)
        out[name] = res
    return out


# ------------------------------------------------------------------- parent side

def _predicted(history: list[tuple[int, float]], n: int, peer: str, d: int) -> float | None:
    """Time at size n from the last measured size: quadratic, or n^1.3 for trees at d <= 8."""
    if not history:
        return None
    n0, t0 = history[-1]
    tree = peer not in ("sklearn-brute", "faiss-flat")
    return t0 * (n / n0) ** (1.3 if tree and d <= 8 else 2.0)


def _run_ladder(kind: str, d: int, sizes, peers, cap: float, log, timeout_ours: float):
    """Run ours and each peer at increasing N; skip peers predicted to exceed ``cap``."""
    ours_target = {"entropy": "peers:ours_entropy", "divergence": "peers:ours_divergence"}[kind]
    peer_target = {"entropy": "peers:peers_entropy",
                   "divergence": "peers:peers_divergence"}[kind]
    runs = []
    history: dict[str, list] = {peer: [] for peer in peers}
    stopped: set[str] = set()
    for n in sizes:
        ours = run_child(ours_target, timeout=timeout_ours, n=n, d=d)
        log(f"{kind} d={d} N={n:.0e} {OURS}: {_brief(ours)}")
        entry = {"n": n, "d": d, "ours": ours, "peers": {}}
        for peer in peers:
            guess = _predicted(history[peer], n, peer, d)
            if peer in stopped or (guess is not None and guess > cap):
                why = "hit the cap at a smaller N" if peer in stopped else \
                    f"predicted {guess:.0f} s > cap {cap:.0f} s"
                entry["peers"][peer] = {"skipped": why}
                log(f"  {peer}: skipped ({why})")
                continue
            res = run_child(peer_target, timeout=cap, peer=peer, n=n, d=d)
            entry["peers"][peer] = res
            log(f"  {peer}: {_brief(res)}")
            if "error" in res:
                if res.get("timed_out"):
                    stopped.add(peer)
                continue
            history[peer].append((n, _seconds_of(res)))
        runs.append(entry)
    return runs


def _seconds_of(res: dict) -> float:
    if "seconds" in res:
        return res["seconds"]
    return max(v["seconds"] for v in res.values() if isinstance(v, dict) and "seconds" in v)


def _brief(res: dict) -> str:
    if "error" in res:
        return res["error"]
    if "seconds" in res:
        return f"{res['seconds']:.3g} s"
    return ", ".join(f"{key} {v['seconds']:.3g} s" for key, v in res.items()
                     if isinstance(v, dict) and "seconds" in v)


def run(quick: bool = False, out_dir: Path | None = None, cap: float | None = None,
        roofline: dict | None = None, verbose: bool = True, only=None, dims=None) -> dict:
    """Run the side-by-side comparison; write ``peers.json`` and ``peers.md``.

    ``only`` restricts the parts run (``entropy``, ``divergence``, ``conditional``),
    ``dims`` the dimensions of the entropy and divergence ladders.
    """
    out_dir = Path(out_dir or default_out_dir())
    log = print if verbose else (lambda *a, **k: None)
    if quick:
        cap = cap or 15.0
        entropy_plan = {4: (2_000, 20_000), 81: (2_000, 5_000)}
        divergence_plan = {16: (2_000,)}
        group_plan = {"groups": 200, "m": 256, "d": 81, "seconds": 5.0}
    else:
        cap = cap or 60.0
        entropy_plan = {4: (10_000, 100_000, 1_000_000), 16: (10_000, 100_000),
                        81: (10_000, 100_000)}
        divergence_plan = {4: (10_000,), 16: (10_000,), 81: (10_000, 100_000)}
        group_plan = {"groups": 10_000, "m": 256, "d": 81, "seconds": 15.0}
    only = set(only or ("entropy", "divergence", "conditional"))
    entropy_plan = {d: v for d, v in entropy_plan.items()
                    if "entropy" in only and (not dims or d in dims)}
    divergence_plan = {d: v for d, v in divergence_plan.items()
                       if "divergence" in only and (not dims or d in dims)}
    payload = {"machine": machine_info(), "quick": quick, "cap_seconds": cap, "k": K,
               "alpha": ALPHA, "entropy": [], "divergence": [], "conditional": None}
    if roofline is None:
        roofline = run_child("roofline:gemm_rates", timeout=300, dims=(4, 16, 81),
                             min_seconds=0.2)
        roofline = {"numpy_gemm": roofline}
    payload["sgemm_gflops"] = roofline["numpy_gemm"].get("float32")
    t_start = time.perf_counter()
    for d, sizes in entropy_plan.items():
        payload["entropy"] += _run_ladder("entropy", d, sizes, ENTROPY_PEERS, cap, log,
                                          timeout_ours=max(cap, 600))
    for d, sizes in divergence_plan.items():
        payload["divergence"] += _run_ladder("divergence", d, sizes, DIVERGENCE_PEERS, cap,
                                             log, timeout_ours=max(cap, 600))
    g = group_plan
    if "conditional" not in only:
        return _finish(payload, t_start, out_dir, verbose)
    cond = {"plan": g, "ours": run_child("peers:ours_conditional", timeout=max(cap, 600),
                                         groups=g["groups"], m=g["m"], d=g["d"]), "peers": {}}
    log(f"conditional {g['groups']} groups x {g['m']} d={g['d']} {OURS}: {_brief(cond['ours'])}")
    for peer in GROUP_PEERS:
        res = run_child("peers:peers_conditional", timeout=3 * g["seconds"] + 120, peer=peer,
                        groups=g["groups"], m=g["m"], d=g["d"], seconds=g["seconds"])
        cond["peers"][peer] = res
        log(f"  {peer}: {_brief(res)}")
    payload["conditional"] = cond
    return _finish(payload, t_start, out_dir, verbose)


def _finish(payload: dict, t_start: float, out_dir: Path, verbose: bool) -> dict:
    payload["elapsed_seconds"] = time.perf_counter() - t_start
    payload["load_average_after"] = load_average()
    text = render(payload)
    write_json(out_dir / "peers.json", payload)
    (out_dir / "peers.md").write_text(text + "\n")
    if verbose:
        print(text)
    return payload


# ------------------------------------------------------------------------- tables

def _floor(n: int, d: int, rates: dict | None) -> float | None:
    from roofline import floor_seconds, sgemm_rate

    rate = sgemm_rate(d, {"numpy_gemm": {"float32": rates}}) if rates else None
    return floor_seconds(n, n, d, rate) if rate else None


def _val(value: float) -> str:
    return f"{value:.7g}"


def _mib(res: dict) -> float | None:
    w = res.get("working_mib")
    return None if w is None else round(w)


def render(payload: dict) -> str:
    rates = payload.get("sgemm_gflops")
    parts = [f"k = {payload['k']}, Renyi alpha = {payload['alpha']}, cap "
             f"{payload['cap_seconds']:.0f} s per peer call, time = best of one call in a "
             f"fresh process, ratio = peer time / hpx_uncert time (> 1: hpx_uncert faster), "
             f"|diff| = |peer value - hpx_uncert value| in nats, memory = peak RSS during "
             f"the call minus RSS before it. Load average before/after: "
             f"{payload['machine']['load_average_1_5_15']} / "
             f"{payload.get('load_average_after')}.", ""]
    rows = []
    for entry in payload["entropy"]:
        rows += _rows_for(entry, "entropy", rates)
    for entry in payload["divergence"]:
        rows += _rows_for(entry, "kl", rates)
        rows += _rows_for(entry, "renyi", rates)
    parts.append(markdown_table(["estimator", "d", "N", "implementation", "value", "|diff|",
                                 "seconds", "ratio", "floor frac", "MiB"], rows))
    summary = _summary(payload)
    if summary:
        parts += ["", "Fastest peer computing the same number, per case:", "",
                  markdown_table(["estimator", "d", "N", "hpx_uncert s", "fastest peer",
                                  "peer s", "speed-up", "fastest estimator library",
                                  "library s", "speed-up "], summary)]
    cond = payload.get("conditional")
    if cond:
        parts += ["", _render_conditional(cond)]
    return "\n".join(parts)


def _rows_for(entry: dict, name: str, rates) -> list[list]:
    n, d = entry["n"], entry["d"]
    ours = entry["ours"]
    label = {"entropy": "entropy", "kl": "KL", "renyi": "Renyi-1/2"}[name]
    mine = ours.get("full") if name == "entropy" else ours.get(name)
    floor = _floor(n, d, rates)
    rows = []
    if "error" in ours or mine is None:
        return [[label, d, n, OURS, ours.get("error", "missing"), "", "", "", "", ""]]
    rows.append([label, d, n, f"{OURS} ({mine.get('method')})", _val(mine["value"]), 0.0,
                 fmt_seconds(mine["seconds"]), 1.0,
                 floor / mine["seconds"] if floor else None, _mib(mine)])
    if name == "entropy":
        knn = ours["knn"]
        rows.append(["k-NN stage", d, n, f"{OURS} knn_distances k+3 ({knn.get('method')})",
                     None, None, fmt_seconds(knn["seconds"]), None,
                     floor / knn["seconds"] if floor else None, _mib(knn)])
    for peer, res in entry["peers"].items():
        if "skipped" in res:
            rows.append([label, d, n, peer, "skipped: " + res["skipped"], "", "", "", "", ""])
            continue
        if "error" in res:
            rows.append([label, d, n, peer, res["error"], "", "", "", "", ""])
            continue
        r = res if name == "entropy" else res.get(name)
        if r is None:
            continue
        rows.append([label, d, n, peer, _val(r["value"]), abs(r["value"] - mine["value"]),
                     fmt_seconds(r["seconds"]), r["seconds"] / mine["seconds"],
                     floor / r["seconds"] if floor else None, _mib(r)])
    return rows


LIBRARIES = ("infomeasure", "entropy_estimators")


def _summary(payload: dict) -> list[list]:
    rows = []
    for kind, names in (("entropy", ("entropy",)), ("divergence", ("kl", "renyi"))):
        for entry in payload[kind]:
            for name in names:
                ours = entry["ours"]
                mine = ours.get("full") if name == "entropy" else ours.get(name)
                if mine is None or "error" in ours:
                    continue
                times = {}
                for peer, res in entry["peers"].items():
                    r = res if name == "entropy" else res.get(name)
                    if r and "seconds" in r and "error" not in res:
                        times[peer] = r["seconds"]
                if not times:
                    continue
                best = min(times, key=times.get)
                libs = {p: t for p, t in times.items() if p in LIBRARIES}
                lib = min(libs, key=libs.get) if libs else None
                rows.append([name, entry["d"], entry["n"], fmt_seconds(mine["seconds"]), best,
                             fmt_seconds(times[best]), times[best] / mine["seconds"],
                             lib or "(none ran)", fmt_seconds(libs[lib]) if lib else None,
                             libs[lib] / mine["seconds"] if lib else None])
    return rows


def _render_conditional(cond: dict) -> str:
    import numpy as np

    g = cond["plan"]
    ours = cond["ours"]
    head = (f"Batched conditional estimates: {g['groups']} groups x {g['m']} samples, "
            f"d = {g['d']}, k = {K}. Peers loop over the groups (each peer call on one "
            f"group); a loop stopped after {g['seconds']:.0f} s is extrapolated linearly to "
            f"all groups (marked *). |diff| compares the mean over the groups the peer did.")
    if "error" in ours:
        return head + f"\n\nhpx_uncert failed: {ours['error']}"
    rows = []
    for name in ("entropy", "kl"):
        mine = ours[name]
        rows.append([name, f"{OURS} ({mine.get('method')})", _val(mine["value"]), 0.0,
                     fmt_seconds(mine["seconds"]), 1.0, _mib(mine)])
        for peer, res in cond["peers"].items():
            if "error" in res:
                rows.append([name, peer, res["error"], "", "", "", ""])
                continue
            r = res.get(name)
            if r is None:
                continue
            done = r["groups_done"]
            theirs = float(np.mean(r["group_values"]))
            same = float(np.mean(np.asarray(mine["group_values"])[:done]))
            star = "*" if r["extrapolated"] else ""
            rows.append([name, f"{peer} loop ({done} groups{star})", _val(theirs),
                         abs(theirs - same),
                         fmt_seconds(r["seconds_all_groups"]) + star,
                         r["seconds_all_groups"] / mine["seconds"], _mib(r)])
    return head + "\n\n" + markdown_table(["estimator", "implementation", "value", "|diff|",
                                           "seconds (all groups)", "ratio", "MiB"], rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--cap", type=float, default=None,
                        help="seconds a peer call may take (default 60, quick 15)")
    parser.add_argument("--roofline", type=Path, default=None,
                        help="roofline.json of this run (its sgemm rates give the floor); "
                             "default: measure the rates here")
    parser.add_argument("--only", default=None,
                        help="comma-separated subset of entropy,divergence,conditional")
    parser.add_argument("--dims", default=None,
                        help="comma-separated dimensions of the entropy/divergence ladders")
    args = parser.parse_args(argv)
    roofline = None
    if args.roofline is not None and args.roofline.exists():
        import json

        roofline = json.loads(args.roofline.read_text())
    run(quick=args.quick, out_dir=args.out, cap=args.cap, roofline=roofline,
        only=args.only.split(",") if args.only else None,
        dims={int(d) for d in args.dims.split(",")} if args.dims else None)


if __name__ == "__main__":
    main()
