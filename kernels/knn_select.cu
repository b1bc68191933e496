// Fused k-selection over one tile of the distance GEMM.
//
// The host computes gram = Q_tile . X_tile^T with cuBLAS (float32). This kernel
// turns each gram entry into a squared distance |q|^2 + |x|^2 - 2 q.x, drops pairs
// whose labels are equal (self-exclusion by id, or by measurement), and merges the
// tile's candidates into the running top-kc list of each query row, in one pass
// over the tile: the full distance tile is never written back.
//
// One warp per query row. Each lane scans the columns lane, lane+32, ... (coalesced
// reads) keeping its own sorted list of K candidates in registers; the lanes then
// agree on the kc best by kc rounds of a warp-wide minimum. The previous top-kc of
// the row joins the lanes' lists first, so the output is the top-kc of
// (previous list U tile). K >= kc is a template parameter so the lists stay in
// registers; the host picks the smallest instantiation that fits.
#include "topk_common.cuh"

template <int K>
__global__ void select_topk_tile(const float* __restrict__ gram,
                                 const float* __restrict__ query_sq,
                                 const float* __restrict__ data_sq,
                                 const long long* __restrict__ query_labels,
                                 const long long* __restrict__ data_labels,
                                 const int use_labels,
                                 const long long col0,
                                 const int rows,
                                 const int cols,
                                 const int kc,
                                 float* __restrict__ best_dist,
                                 long long* __restrict__ best_idx) {
    const int lane = threadIdx.x & 31;
    const long long row = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
    // the whole warp leaves together, so the shuffles below see 32 live lanes
    if (row >= rows) return;

    SortedList<K> list;
    list.clear();

    float* row_dist = best_dist + row * kc;
    long long* row_idx = best_idx + row * kc;
    for (int t = lane; t < kc; t += 32) {
        if (row_idx[t] >= 0) list.insert(row_dist[t], row_idx[t]);
    }

    const float qsq = query_sq[row];
    const long long qlab = use_labels ? query_labels[row] : 0;
    const float* gram_row = gram + row * static_cast<long long>(cols);
    for (int j = lane; j < cols; j += 32) {
        if (use_labels && data_labels[j] == qlab) continue;
        // round-off can push a true zero slightly negative; distances are >= 0
        const float d2 = fmaxf(qsq + data_sq[j] - 2.0f * gram_row[j], 0.0f);
        list.insert(d2, col0 + j);
    }

    for (int r = 0; r < kc; ++r) {
        float best_d = list.dist[0];
        long long best_i = list.idx[0];
#pragma unroll
        for (int offset = 16; offset > 0; offset >>= 1) {
            const float other_d = __shfl_xor_sync(0xffffffffu, best_d, offset);
            const long long other_i = __shfl_xor_sync(0xffffffffu, best_i, offset);
            if (hpx_before(other_d, other_i, best_d, best_i)) {
                best_d = other_d;
                best_i = other_i;
            }
        }
        const bool empty = best_i == HPX_NO_INDEX;
        if (lane == 0) {
            row_dist[r] = best_d;
            row_idx[r] = empty ? -1 : best_i;
        }
        // indices are unique across lanes, so exactly one lane owns the winner
        if (!empty && list.idx[0] == best_i) list.pop_front();
    }
}

// Explicit instantiations: the names the host looks up (module.SELECT_CAPACITIES),
// and what `nvcc -ptx` compiles in tools/compile_kernels.py.
template __global__ void select_topk_tile<8>(const float*, const float*, const float*,
    const long long*, const long long*, int, long long, int, int, int, float*, long long*);
template __global__ void select_topk_tile<16>(const float*, const float*, const float*,
    const long long*, const long long*, int, long long, int, int, int, float*, long long*);
template __global__ void select_topk_tile<32>(const float*, const float*, const float*,
    const long long*, const long long*, int, long long, int, int, int, float*, long long*);
template __global__ void select_topk_tile<64>(const float*, const float*, const float*,
    const long long*, const long long*, int, long long, int, int, int, float*, long long*);
