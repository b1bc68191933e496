"""One worker process per GPU: distribute tasks, return results in task order.

Each worker is a *spawned* process (never forked: a forked CUDA context is
unusable) that sees exactly one GPU: its ``CUDA_VISIBLE_DEVICES`` is set to one
token of the parent's list before it starts, so inside the worker that GPU is
``cuda:0``. The parent's list comes from ``CUDA_VISIBLE_DEVICES`` (what Slurm's
``--gres=gpu:N`` sets; ordinals or ``GPU-...`` UUIDs) or, when unset, from the
device count. Workers pull tasks from one queue (fast GPUs take more), open their
own inputs (an archive path in the task, never an open file handle), and send
back picklable results; the parent re-orders them by task index.

Examples
--------
>>> def shard_entropy(path):             # doctest: +SKIP
...     ...                              # opens `path`, runs on cuda:0
>>> run_on_gpus(shard_entropy, paths)    # doctest: +SKIP
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import traceback
from typing import Any, Callable, Iterable, Sequence

log = logging.getLogger(__name__)

#: environment variable telling a worker its slot (0..n_workers-1)
SLOT_ENV = "HPX_UNCERT_GPU_SLOT"


def visible_gpus() -> list[str]:
    """Tokens naming the GPUs this process may use, in CUDA ordinal order.

    ``CUDA_VISIBLE_DEVICES`` when set (entries after an invalid one such as ``-1``
    are ignored, as CUDA does), else ``"0".."N-1"`` from the CUDA device count.
    """
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        tokens = []
        for token in (t.strip() for t in env.split(",")):
            if not token or token.startswith("-"):
                break
            tokens.append(token)
        return tokens
    from .cuda import device_count

    return [str(i) for i in range(device_count())]


def gpus_for(device="cuda") -> list[str]:
    """Tokens of the GPUs a device request names (``"cuda"`` = all visible)."""
    from . import BackendUnavailableError, parse_device

    spec = parse_device(device)
    if spec.kind == "cpu":
        raise ValueError(f"run_on_gpus needs a CUDA device request; got device={device!r}.")
    tokens = visible_gpus()
    if not tokens:
        from . import CUDA_INSTALL_HINT

        raise BackendUnavailableError(f"no GPU is visible to this process "
                                      f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}). "
                                      f"To fix it, {CUDA_INSTALL_HINT}.")
    if not spec.ids:
        return tokens
    missing = [i for i in spec.ids if i >= len(tokens)]
    if missing:
        raise BackendUnavailableError(f"device={str(spec)!r} names GPU ordinal(s) {missing} "
                                      f"but only {len(tokens)} GPU(s) are visible: {tokens}.")
    return [tokens[i] for i in spec.ids]


def run_on_gpus(func: Callable[[Any], Any], tasks: Iterable[Any], *,
                devices: Sequence[str] | str | None = None, poll_s: float = 0.5) -> list:
    """Run ``func(task)`` for every task, one spawned worker process per GPU.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled by reference); it runs inside a
        worker that sees a single GPU as ``cuda:0``.
    tasks : iterable
        Picklable task descriptions (e.g. shard paths and row ranges).
    devices : sequence of str, or str, optional
        GPU tokens as in ``CUDA_VISIBLE_DEVICES`` (``["0", "1"]``), or a device
        request such as ``"cuda:0,1"``. Default: every visible GPU.
    poll_s : float
        Seconds between checks that the workers are still alive.

    Returns
    -------
    list
        ``[func(t) for t in tasks]``, in task order.

    Raises
    ------
    RuntimeError
        A task raised (the worker's traceback is included), or a worker died.
    BackendUnavailableError
        No GPU is visible.
    """
    tasks = list(tasks)
    if devices is None or isinstance(devices, str):
        tokens = gpus_for("cuda" if devices is None else devices)
    else:
        tokens = [str(t) for t in devices]
        if not tokens:
            raise ValueError("devices is empty; pass GPU tokens such as ['0', '1'] or None "
                             "for every visible GPU.")
    if not tasks:
        return []
    tokens = tokens[:len(tasks)]
    ctx = mp.get_context("spawn")
    task_queue = ctx.Queue()
    result_queue = ctx.Queue()
    for index, task in enumerate(tasks):
        task_queue.put((index, task))
    for _ in tokens:
        task_queue.put(None)
    workers = [_start_worker(ctx, token, slot, func, task_queue, result_queue)
               for slot, token in enumerate(tokens)]
    log.info("run_on_gpus: %d task(s) on %d GPU worker(s) %s", len(tasks), len(tokens), tokens)
    results: list = [None] * len(tasks)
    received = 0
    try:
        while received < len(tasks):
            try:
                index, ok, value = result_queue.get(timeout=poll_s)
            except queue.Empty:
                dead = [(w.name, w.exitcode) for w in workers
                        if not w.is_alive() and w.exitcode not in (0, None)]
                if dead:
                    raise RuntimeError(f"GPU worker(s) died without a result: {dead} "
                                       f"(exit codes; negative = killed by that signal, "
                                       f"e.g. out of host memory).") from None
                continue
            if not ok:
                raise RuntimeError(f"task {index} failed in a GPU worker:\n{value}")
            results[index] = value
            received += 1
    finally:
        for w in workers:
            if w.is_alive() and received < len(tasks):
                w.terminate()
        for w in workers:
            w.join(timeout=30)
    return results


def _start_worker(ctx, token, slot, func, task_queue, result_queue):
    # the child inherits the parent's environment at start; CUDA reads
    # CUDA_VISIBLE_DEVICES once, when the first context is created
    saved = {name: os.environ.get(name) for name in ("CUDA_VISIBLE_DEVICES", SLOT_ENV)}
    os.environ["CUDA_VISIBLE_DEVICES"] = token
    os.environ[SLOT_ENV] = str(slot)
    try:
        worker = ctx.Process(target=_worker_loop, args=(func, task_queue, result_queue),
                             name=f"hpx-gpu-{slot}[{token}]", daemon=True)
        worker.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return worker


def _worker_loop(func, task_queue, result_queue):
    while True:
        item = task_queue.get()
        if item is None:
            return
        index, task = item
        try:
            result_queue.put((index, True, func(task)))
        except BaseException:  # reported to the parent, which raises
            result_queue.put((index, False, traceback.format_exc()))
