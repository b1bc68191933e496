"""Writing the report: report.json, report.csv, the figures and a console table."""

from __future__ import annotations

import csv
import io
import json
import math
import os

from .quantities import MODEL_QUANTITIES


def report_json(report: dict) -> str:
    """Canonical JSON text of a report (same report, same bytes)."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _atomic_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def csv_rows(report: dict) -> list[dict]:
    """One flat row per model: value and stderr of each quantity, bounds, region."""
    rows = []
    for name, rep in report["models"].items():
        row = {"model": name}
        for q in MODEL_QUANTITIES:
            v = rep.get(q)
            row[q] = "" if v is None or v["value"] is None else repr(v["value"])
            row[f"{q}_stderr"] = "" if v is None or v["stderr"] is None else repr(v["stderr"])
        dist = rep.get("distortion") or {}
        row["psnr"] = "" if dist.get("psnr") is None else repr(dist["psnr"])
        b = rep.get("bounds") or {}
        row["bound_lower"] = "" if b.get("lower") is None else repr(b["lower"])
        row["bound_upper"] = "" if b.get("upper") is None else repr(b["upper"])
        row["region"] = (rep.get("region") or {}).get("region", "")
        row["region_gaussian"] = (rep.get("region_gaussian") or {}).get("region", "")
        rows.append(row)
    return rows


def report_csv(report: dict) -> str:
    rows = csv_rows(report)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


def write_outputs(report: dict, outdir: str, *, figures: bool = True) -> list[str]:
    """Write report.json, report.csv and (optionally) the figures into ``outdir``."""
    os.makedirs(outdir, exist_ok=True)
    written = []
    for name, text in (("report.json", report_json(report)), ("report.csv", report_csv(report))):
        path = os.path.join(outdir, name)
        _atomic_text(path, text)
        written.append(path)
    if figures:
        from .figures import write_figures

        written.extend(write_figures(report, outdir))
    return written


def _fmt(entry, digits: int = 4) -> str:
    if entry is None or entry.get("value") is None:
        return "—"
    v, se = entry["value"], entry.get("stderr")
    if se is None or not math.isfinite(se):
        return f"{v:.{digits}g}"
    return f"{v:.{digits}g} ± {se:.2g}"


def format_table(report: dict, exact: dict | None = None) -> str:
    """A plain-text table of the main numbers per model, with exact values if given.

    ``exact`` maps model name -> {"uncertainty": ..., "perception": ...} (and
    optionally "inherent_uncertainty" at the top level).
    """
    cols = [("uncertainty", "N(X̂-X|Y)"), ("uncertainty_pooled", "pooled"),
            ("uncertainty_gaussian", "gaussian"), ("perception", "D_1/2"),
            ("perception_gaussian", "D_1/2 gauss"),
            ("distortion", "MSE")]
    header = ["model"] + [c[1] for c in cols] + ["region", "region (gauss)"]
    lines = []
    for name, rep in report["models"].items():
        row = [name] + [_fmt(rep.get(q)) for q, _ in cols]
        row.append((rep.get("region") or {}).get("region", "—"))
        row.append((rep.get("region_gaussian") or {}).get("region", "—"))
        lines.append(row)
        if exact and name in exact:
            ex = exact[name]
            lines.append(["  exact"] + [f"{ex[q]:.4g}" if ex.get(q) is not None else ""
                                        for q, _ in cols] + ["", ""])
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out.extend("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in lines)
    inh, inh_g = report.get("inherent_uncertainty"), report.get("inherent_uncertainty_gaussian")
    out.append("")
    line = f"inherent N(X|Y): {_fmt(inh)}   gaussian N(X_G|Y): {_fmt(inh_g)}"
    if exact and exact.get("inherent_uncertainty") is not None:
        line += f"   exact: {exact['inherent_uncertainty']:.4g}"
    out.append(line)
    return "\n".join(out)
