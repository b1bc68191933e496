"""The demo: a linear-Gaussian archive with exact answers, evaluated end to end.

Sizes are chosen so the k-NN numbers mean something: at d = 4 with a few hundred
samples per measurement the k-NN estimators are close to their large-sample
values, while at d = 64 they would be dominated by bias (see benchmarks/RESULTS.md).
The Gaussian-method values (``uncertainty_gaussian``, ``perception_gaussian``) are
exact for this problem up to sampling error and are shown beside them.
"""

from __future__ import annotations

import json
import os

#: Demo archive: G measurements, R reference and M model draws each, in d dimensions.
DEMO_SIZES = {"d": 4, "num_measurements": 200, "reference_samples": 300,
              "model_samples": 300, "gammas": (0.25, 0.5, 1.0)}


def exact_table(answers: dict) -> dict:
    """Model name -> exact value of each reported quantity, from the answers file."""
    out = {}
    for name, quantities in answers["models"].items():
        row = {}
        for q, entry in quantities.items():
            if isinstance(entry, dict) and "value" in entry:
                row[q] = entry["value"]
        row["perception_gaussian"] = row.get("perception")
        out[name] = row
    inh = answers.get("inherent_uncertainty") or answers.get("archive_level", {}).get(
        "inherent_uncertainty")
    if isinstance(inh, dict):
        out["inherent_uncertainty"] = inh.get("value")
    return out


def run_demo(outdir: str, *, seed: int = 0, progress=None) -> tuple[dict, dict]:
    """Write the demo archive under ``outdir``, evaluate it; return (report, exact table)."""
    from hpx_uncert.synth import make_linear_gaussian, truth_path

    from .run import evaluate

    os.makedirs(outdir, exist_ok=True)
    archive = os.path.join(outdir, "demo-archive.h5")
    make_linear_gaussian(archive, seed=seed, **DEMO_SIZES)
    with open(truth_path(archive)) as fh:
        answers = json.load(fh)
    report = evaluate(archive, outdir=outdir, progress=progress)
    return report, exact_table(answers)
