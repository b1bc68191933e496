"""Which search to run for a given shape: measured on this machine, not guessed.

Self k-NN, k = 5, standard normal points, 2 vCPU EPYC Zen4, OMP_WAIT_POLICY=PASSIVE,
seconds (``python benchmarks/knn_method_choice.py N d ...``; table in
benchmarks/NOTES.md, "Neighbour-search method choice"):

=========  ======  =====  =====  =====  =====  =====
N          route   d=4    d=8    d=10   d=12   d=16
=========  ======  =====  =====  =====  =====  =====
2e3        kdtree  0.007              0.020  0.023
2e3        faiss   0.009              0.012  0.011
2e4        kdtree  0.061  0.397  0.916  1.68   3.88
2e4        faiss   0.620  0.418  0.397  0.372  0.367
5e4        kdtree         1.41   3.89   8.05
5e4        faiss          2.29   2.40   2.43
=========  ======  =====  =====  =====  =====  =====

The kd-tree wins up to d = 8 (by 10x at d = 4: faiss flat is bound by its top-k
selection there, not by the GEMM) and loses from d = 10 on, at every N measured.
Its advantage grows with N (n log n against n^2), so the crossover may move to
d = 10 for N >> 1e5; that was not measured.
"""

from __future__ import annotations

#: largest dimension at which the kd-tree beat faiss flat in the measurement
KDTREE_MAX_DIM = 8

METHODS = ("auto", "faiss", "kdtree")


def choose_method(n_query: int, n_data: int, d: int) -> str:
    """``"kdtree"`` or ``"faiss"`` for a search of ``n_query`` points among ``n_data``.

    The sizes are part of the signature so that a size-dependent rule can replace
    the dimension-only one without touching callers; the measurement above found
    no size dependence of the crossover between 2e3 and 5e4 points.
    """
    return "kdtree" if d <= KDTREE_MAX_DIM else "faiss"
