"""``hpx-uncert devices``: which compute backends and GPUs this machine offers."""

from __future__ import annotations

import json
import os

import click


@click.command("devices")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def devices(as_json):
    """List the compute backends (cpu, cuda), why one is unusable, and the visible GPUs."""
    info = describe_devices()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for name, entry in info["backends"].items():
        status = "available" if entry["available"] else f"unavailable: {entry['reason']}"
        click.echo(f"{name:6s} {status}")
    for gpu in info["gpus"]:
        click.echo(f"  cuda:{gpu['ordinal']}  {gpu['name']}  "
                   f"{gpu['free_gib']:.1f} / {gpu['total_gib']:.1f} GiB free")
    click.echo(f"numba.cuda: {info['numba_cuda'] or 'available'}")
    click.echo(f"faiss-gpu: {'available' if info['faiss_gpu'] else 'not installed'}")
    click.echo(f"CUDA_VISIBLE_DEVICES={info['cuda_visible_devices']!s}")
    click.echo(f"device='auto' resolves to {info['auto']}")


def describe_devices() -> dict:
    """Backends, GPUs and what ``device='auto'`` picks, as plain data."""
    from hpx_uncert.backends import available_backends, resolve_device
    from hpx_uncert.backends.cuda import numba_cuda_problem

    backends = {name: {"available": reason is None, "reason": reason}
                for name, reason in available_backends().items()}
    gpus = []
    if backends["cuda"]["available"]:
        import cupy

        for ordinal in range(cupy.cuda.runtime.getDeviceCount()):
            with cupy.cuda.Device(ordinal) as dev:
                free, total = dev.mem_info
                props = cupy.cuda.runtime.getDeviceProperties(ordinal)
                name = props["name"]
                gpus.append({"ordinal": ordinal,
                             "name": name.decode() if isinstance(name, bytes) else str(name),
                             "compute_capability": dev.compute_capability,
                             "free_gib": free / 2**30, "total_gib": total / 2**30})
    faiss_gpu = False
    if backends["cuda"]["available"]:
        from hpx_uncert.backends.cuda.knn import faiss_gpu_available

        faiss_gpu = faiss_gpu_available()
    return {"backends": backends, "gpus": gpus, "numba_cuda": numba_cuda_problem(),
            "faiss_gpu": faiss_gpu,
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "auto": str(resolve_device("auto"))}
