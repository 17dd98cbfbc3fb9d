// Monte Carlo estimate of pi in one fused kernel: random numbers, the in-circle test and the
// reduction all happen in registers; no sample is ever written to memory.
//
// Random numbers are counter-based: Philox-4x32-10 (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3", SC'11; constants and round structure of Random123). Pair index i
// (64-bit) encrypts the counter (lo32(i), hi32(i), seed[2], seed[3]) under the key
// (seed[0], seed[1]); the four output words are the points 2i = (w0, w1) and 2i+1 = (w2, w3).
// Any thread can therefore generate any part of the stream, and the count does not depend on
// the launch configuration.
//
// The in-circle test is exact integer arithmetic: a word w becomes the coordinate
// (2 (w >> 2) + 1) / 2^31, the midpoint of one of 2^30 cells, and the point is inside when
// (2a+1)^2 + (2b+1)^2 <= 2^62 (all below 2^63, so no overflow). A NumPy reimplementation
// reproduces the count bit for bit (tests/test_emu_montecarlo.py), and the discretisation
// bias (about 1e-12 relative) is far below the Monte Carlo error of any feasible n.
//
// Each block writes one 64-bit partial count; the caller sums them on the device.
// blockDim.x must be a multiple of 32 and at most 1024 (full warps for the shuffles).
#include "common.cuh"

#define GM_PHILOX_M0 0xD2511F53u
#define GM_PHILOX_M1 0xCD9E8D57u
#define GM_PHILOX_W0 0x9E3779B9u
#define GM_PHILOX_W1 0xBB67AE85u

// Philox-4x32-10: ten rounds, the key bumped by the Weyl constants between rounds.
__device__ __forceinline__ void gm_philox4x32_10(unsigned int& c0, unsigned int& c1,
                                                 unsigned int& c2, unsigned int& c3,
                                                 unsigned int k0, unsigned int k1) {
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        const unsigned int hi0 = __umulhi(GM_PHILOX_M0, c0);
        const unsigned int lo0 = GM_PHILOX_M0 * c0;
        const unsigned int hi1 = __umulhi(GM_PHILOX_M1, c2);
        const unsigned int lo1 = GM_PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += GM_PHILOX_W0;
        k1 += GM_PHILOX_W1;
    }
}

// 1 when the point (wx, wy) lies in the quarter disc, else 0.
__device__ __forceinline__ unsigned int gm_pi_inside(unsigned int wx, unsigned int wy) {
    const unsigned long long ax = 2ull * (wx >> 2) + 1ull;
    const unsigned long long ay = 2ull * (wy >> 2) + 1ull;
    return ax * ax + ay * ay <= (1ull << 62) ? 1u : 0u;
}

__device__ __forceinline__ unsigned long long gm_warp_sum(unsigned long long v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_down_sync(0xffffffffu, v, offset);
    }
    return v;
}

extern "C" __global__ void gm_estimate_pi_u64(const unsigned int* seed, gm_index_t n_points,
                                              unsigned long long* block_counts) {
    const unsigned int k0 = seed[0];
    const unsigned int k1 = seed[1];
    const unsigned int s2 = seed[2];
    const unsigned int s3 = seed[3];
    const gm_index_t n_pairs = n_points / 2 + (n_points & 1);
    unsigned long long hits = 0;
    for (gm_index_t i = gm_global_thread_index(); i < n_pairs; i += gm_grid_stride()) {
        unsigned int c0 = (unsigned int)i;
        unsigned int c1 = (unsigned int)((unsigned long long)i >> 32);
        unsigned int c2 = s2;
        unsigned int c3 = s3;
        gm_philox4x32_10(c0, c1, c2, c3, k0, k1);
        hits += gm_pi_inside(c0, c1);
        if (2 * i + 1 < n_points) {  // odd n: the last pair holds one point
            hits += gm_pi_inside(c2, c3);
        }
    }

    __shared__ unsigned long long warp_sums[32];
    const unsigned int lane = threadIdx.x & 31u;
    const unsigned int warp = threadIdx.x >> 5;
    hits = gm_warp_sum(hits);
    if (lane == 0) {
        warp_sums[warp] = hits;
    }
    __syncthreads();
    if (warp == 0) {
        hits = lane < (blockDim.x >> 5) ? warp_sums[lane] : 0ull;
        hits = gm_warp_sum(hits);
        if (lane == 0) {
            block_counts[blockIdx.x] = hits;
        }
    }
}
