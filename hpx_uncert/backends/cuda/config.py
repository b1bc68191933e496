"""Launch tunables of the CUDA kernels, read at launch time.

Tests patch them small (e.g. ``THREADS_PER_BLOCK = 4``) so that tiny inputs still
span several blocks and the block-boundary code runs.
"""

#: threads per block of the numba.cuda group kernels (one thread per query point
#: or per group)
THREADS_PER_BLOCK = 128

#: warps per block of the fused selection kernel (one warp per query row)
SELECT_WARPS_PER_BLOCK = 8

#: share of the free device memory a search may use when no budget is given
FREE_MEMORY_SHARE = 0.8

#: widest GEMM tile (data columns); cuBLAS is saturated well before this
MAX_TILE_COLS = 1 << 16

#: neighbours per query the group kernel keeps in its per-thread list (k <= this)
GROUP_MAX_K = 64
