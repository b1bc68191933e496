"""Archive read throughput for each storage option the writer offers.

Writes one archive per option (contiguous, chunked, gzip, lzf, Fletcher-32,
gzip + Fletcher-32) holding the same float32 samples, then reads every model
sample back with ``Archive.iter_blocks`` under a fixed memory budget and reports
MB/s of decoded data (1 MB = 10**6 bytes). Each archive is read once to warm the
page cache and then timed (best of ``--repeats``), so the numbers are the HDF5 +
filter decoding cost, not the disk's: this machine's disk is shared and its cold
speed is not reproducible.

    .venv/bin/python benchmarks/io_throughput.py --megabytes 256 --folder /tmp/io_bench

Sample values: ``standard normal * 0.1`` rounded to float32, i.e. full-entropy
mantissas like real sampler output; gzip and lzf gain little on such data
(the size column shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time

import numpy as np

from hpx_uncert.io import ArchiveWriter, open_archive

OPTIONS = {
    "contiguous": dict(chunk_measurements=0),
    "chunked": dict(),
    "gzip-4": dict(compression="gzip"),
    "lzf": dict(compression="lzf"),
    "fletcher32": dict(fletcher32=True),
    "gzip-4+fletcher32": dict(compression="gzip", fletcher32=True),
}


def write(path, *, options, num_measurements, samples, dim, seed=0) -> float:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with ArchiveWriter(path, num_measurements=num_measurements, **options) as w:
        step = 128
        for lo in range(0, num_measurements, step):
            g = min(step, num_measurements - lo)
            draws = (0.1 * rng.standard_normal((g, samples, dim), dtype=np.float32))
            w.append(truth=draws[:, 0].copy(), models={"sampler": draws})
    return time.perf_counter() - started


def read(path, budget) -> tuple[float, int]:
    arch = open_archive(path)
    started = time.perf_counter()
    total = 0
    for block in arch.iter_blocks(fields=["models"], memory_budget=budget):
        total += block.models["sampler"].nbytes
    return time.perf_counter() - started, total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=256.0,
                        help="model samples per archive, MB")
    parser.add_argument("--samples", type=int, default=128, help="M")
    parser.add_argument("--dim", type=int, default=256, help="d")
    parser.add_argument("--budget", default="64MB", help="memory budget of iter_blocks")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--folder", default="/tmp/hpx_io_bench")
    parser.add_argument("--options", default=",".join(OPTIONS))
    args = parser.parse_args(argv)

    per = args.samples * args.dim * 4
    g = max(1, int(args.megabytes * 1e6 // per))
    os.makedirs(args.folder, exist_ok=True)
    rows = []
    try:
        for name in args.options.split(","):
            path = os.path.join(args.folder, f"{name}.h5")
            w = write(path, options=OPTIONS[name], num_measurements=g, samples=args.samples,
                      dim=args.dim)
            read(path, args.budget)  # warm the page cache
            best = min(read(path, args.budget)[0] for _ in range(args.repeats))
            data = g * per
            rows.append({"option": name, "data_MB": round(data / 1e6, 1),
                         "file_MB": round(os.path.getsize(path) / 1e6, 1),
                         "write_MB_s": round(data / 1e6 / w, 1),
                         "read_MB_s": round(data / 1e6 / best, 1)})
            os.remove(path)
            print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(args.folder, ignore_errors=True)
    print(f"\nG={g}, M={args.samples}, d={args.dim}, float32, budget {args.budget}\n")
    print("| storage | data MB | file MB | write MB/s | read MB/s |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['option']} | {r['data_MB']} | {r['file_MB']} | {r['write_MB_s']} | "
              f"{r['read_MB_s']} |")


if __name__ == "__main__":
    main()
