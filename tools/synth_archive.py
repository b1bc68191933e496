#!/usr/bin/env python
"""Write a synthetic archive plus its exact answers (``<archive>.truth.json``).

A thin wrapper over ``hpx_uncert.synth`` for scripts and Slurm jobs; the same
generators back ``hpx-uncert synth``. Examples::

    python tools/synth_archive.py linear-gaussian out/lg.h5
    python tools/synth_archive.py linear-gaussian out/big --measurements 20000 \\
        --samples 64 --shards 8 --float32 --compression lzf      # ~10^7 samples
    python tools/synth_archive.py mixture out/gm.h5 --dim 4
    python tools/synth_archive.py images out/img.h5 --degradation inpaint
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from hpx_uncert.synth import KINDS, truth_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("output", help="NAME.h5, or a directory when --shards > 1")
    parser.add_argument("--measurements", type=int, default=None, help="G")
    parser.add_argument("--samples", type=int, default=None, help="M per stochastic model")
    parser.add_argument("--reference", type=int, default=64, help="R (not for images)")
    parser.add_argument("--dim", type=int, default=None, help="d (not for images)")
    parser.add_argument("--degradation", default="downsample", help="images only")
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--float32", action="store_true")
    parser.add_argument("--compression", choices=["gzip", "lzf"], default=None)
    parser.add_argument("--fletcher32", action="store_true")
    args = parser.parse_args(argv)

    kwargs = dict(seed=args.seed, shards=args.shards, compression=args.compression,
                  fletcher32=args.fletcher32, dtype=np.float32 if args.float32 else np.float64)
    if args.measurements:
        kwargs["num_measurements"] = args.measurements
    if args.samples:
        kwargs["model_samples"] = args.samples
    if args.kind == "images":
        kwargs["degradation"] = args.degradation
    else:
        kwargs["reference_samples"] = args.reference
        if args.dim:
            kwargs["d"] = args.dim
    started = time.perf_counter()
    answers = KINDS[args.kind](args.output, **kwargs)
    print(json.dumps({"archive": args.output, "answers": truth_path(args.output),
                      "seconds": round(time.perf_counter() - started, 2),
                      "exact": answers["exact"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
