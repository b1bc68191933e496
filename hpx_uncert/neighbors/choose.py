"""Which search to run for a given shape: measured on this machine, not guessed.

Measurement (2 vCPU EPYC Zen4, OMP_WAIT_POLICY=PASSIVE, self k-NN, k = 5):
see benchmarks/NOTES.md, "Neighbour-search method choice", for the table and
command. The kd-tree wins clearly at small d (faiss flat is bound by its top-k
selection there, not by the GEMM) and degenerates as d grows.
"""

from __future__ import annotations

#: largest dimension at which the kd-tree beat faiss flat in the measurement
KDTREE_MAX_DIM = 8
#: below this many data points every route takes milliseconds; the kd-tree has
#: the least start-up cost and exact float64 arithmetic
SMALL_DATA = 2048

METHODS = ("auto", "faiss", "kdtree")


def choose_method(n_query: int, n_data: int, d: int) -> str:
    """``"kdtree"`` or ``"faiss"`` for a search of ``n_query`` points among ``n_data``."""
    if d <= KDTREE_MAX_DIM or (n_data <= SMALL_DATA and d <= 2 * KDTREE_MAX_DIM):
        return "kdtree"
    return "faiss"
