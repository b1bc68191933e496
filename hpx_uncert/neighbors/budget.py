"""Memory budget for blocked searches: how many rows fit in how many bytes."""

from __future__ import annotations

import os

from .._checks import parse_memory_budget

#: Budget used when neither the caller nor ``HPX_UNCERT_MEMORY_BUDGET`` sets one.
DEFAULT_MEMORY_BUDGET = 2 * 1024**3
MEMORY_BUDGET_ENV = "HPX_UNCERT_MEMORY_BUDGET"


def resolve_memory_budget(memory_budget=None) -> int:
    """Bytes a search may hold in working arrays.

    Parameters
    ----------
    memory_budget : int or None
        Explicit budget in bytes. ``None`` reads the environment variable
        ``HPX_UNCERT_MEMORY_BUDGET`` (bytes) and falls back to 2 GiB.

    Returns
    -------
    int
        A positive number of bytes.
    """
    source = "memory_budget"
    if memory_budget is None:
        env = os.environ.get(MEMORY_BUDGET_ENV)
        if env is None or env.strip() == "":
            return DEFAULT_MEMORY_BUDGET
        source = f"environment variable {MEMORY_BUDGET_ENV}"
        try:
            memory_budget = parse_memory_budget(env)
        except ValueError:
            raise ValueError(f"{source} must be a number of bytes or a size such as '8GiB'; "
                             f"got {env!r}.") from None
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float)) \
            or memory_budget <= 0:
        raise ValueError(f"{source} must be a positive number of bytes; got {memory_budget!r}.")
    return int(memory_budget)


def rows_within(budget_bytes: int, bytes_per_row: int, *, minimum: int = 1) -> int:
    """Largest row count whose working arrays fit in ``budget_bytes``, at least ``minimum``.

    A budget too small for even ``minimum`` rows still makes progress (one row at a
    time) rather than failing: the budget bounds the blocks, not correctness.
    """
    return max(int(minimum), int(budget_bytes // max(int(bytes_per_row), 1)))
