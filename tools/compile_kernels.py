#!/usr/bin/env python3
"""Compile every kernels/*.cu to PTX with nvcc: the ahead-of-time check of the CUDA sources.

Used by ``make ptx`` (part of ``make test``). For each source and each target
architecture it runs ``nvcc -ptx`` and prints what it did and the kernels found.
Exit status: 0 when everything compiled, or when nvcc is absent ("nvcc not found,
skipped"); 1 on any compile error (nvcc's message is printed).

Usage: python tools/compile_kernels.py [--arch sm_90 --arch sm_70] [--out DIR] [--nvcc PATH]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "kernels"
#: the H100/H200 target, and a baseline every CUDA 13 toolkit still accepts
DEFAULT_ARCHS = ("sm_90", "sm_75")


def find_nvcc(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    found = shutil.which("nvcc")
    if found:
        return found
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and (Path(home) / "bin" / "nvcc").is_file():
            return str(Path(home) / "bin" / "nvcc")
    return None


def compile_one(nvcc: str, source: Path, arch: str, out_dir: Path) -> tuple[bool, str]:
    target = out_dir / f"{source.stem}.{arch}.ptx"
    cmd = [nvcc, "-ptx", f"-arch={arch}", "-std=c++17", f"-I{KERNELS}", str(source),
           "-o", str(target)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return False, f"{' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
    entries = re.findall(r"\.entry\s+(\S+?)\(", target.read_text())
    return True, f"{len(entries)} kernel(s) -> {target}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", help="target, e.g. sm_90 (repeatable)")
    parser.add_argument("--out", help="folder for the .ptx files (default: a temporary one)")
    parser.add_argument("--nvcc", help="path to nvcc (default: PATH, CUDA_HOME, /usr/local/cuda)")
    args = parser.parse_args(argv)
    sources = sorted(KERNELS.glob("*.cu"))
    if not sources:
        print(f"no .cu files in {KERNELS}; nothing to compile")
        return 0
    nvcc = find_nvcc(args.nvcc)
    if nvcc is None:
        print(f"nvcc not found, skipped PTX compilation of {len(sources)} kernel source(s)")
        return 0
    archs = args.arch or list(DEFAULT_ARCHS)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        return _compile_all(nvcc, sources, archs, Path(args.out))
    with tempfile.TemporaryDirectory(prefix="hpx-ptx-") as tmp:
        return _compile_all(nvcc, sources, archs, Path(tmp))


def _compile_all(nvcc: str, sources: list[Path], archs: list[str], out_dir: Path) -> int:
    failures = 0
    for source in sources:
        for arch in archs:
            ok, message = compile_one(nvcc, source, arch, out_dir)
            status = "ok  " if ok else "FAIL"
            print(f"{status} {source.name} [{arch}]: {message}")
            failures += not ok
    print(f"{len(sources) * len(archs) - failures}/{len(sources) * len(archs)} compiled with {nvcc}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
