// Ordering and a register-resident sorted list shared by the selection kernels.
//
// Candidates are ordered by (squared distance, data index): the index breaks
// ties so the selection is deterministic and matches a stable sort on the CPU.
#pragma once

#ifndef HPX_INF_F32
#define HPX_INF_F32 __int_as_float(0x7f800000)
#endif
#define HPX_NO_INDEX 0x7fffffffffffffffLL

__device__ __forceinline__ bool hpx_before(float da, long long ia, float db, long long ib) {
    return da < db || (da == db && ia < ib);
}

// A sorted list of K (distance, index) pairs held in registers: every index into
// the arrays is a compile-time constant once the loops are unrolled.
template <int K>
struct SortedList {
    float dist[K];
    long long idx[K];

    __device__ __forceinline__ void clear() {
#pragma unroll
        for (int p = 0; p < K; ++p) {
            dist[p] = HPX_INF_F32;
            idx[p] = HPX_NO_INDEX;
        }
    }

    __device__ __forceinline__ void insert(float d, long long i) {
        if (!hpx_before(d, i, dist[K - 1], idx[K - 1])) return;
        bool placed = false;
#pragma unroll
        for (int p = K - 1; p >= 0; --p) {
            if (!placed) {
                if (p > 0 && hpx_before(d, i, dist[p - 1], idx[p - 1])) {
                    dist[p] = dist[p - 1];
                    idx[p] = idx[p - 1];
                } else {
                    dist[p] = d;
                    idx[p] = i;
                    placed = true;
                }
            }
        }
    }

    __device__ __forceinline__ void pop_front() {
#pragma unroll
        for (int p = 0; p < K - 1; ++p) {
            dist[p] = dist[p + 1];
            idx[p] = idx[p + 1];
        }
        dist[K - 1] = HPX_INF_F32;
        idx[K - 1] = HPX_NO_INDEX;
    }
};
