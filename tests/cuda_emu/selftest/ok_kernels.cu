// Correct kernels for the lane's self-tests (tests/test_emu_lane.py): static and dynamic
// shared memory, barriers, warp primitives, atomics and 3-D indexing all behave as on a GPU.
// They compile under nvcc too.
#include "common.cuh"

#define GM_TEST_TILE 8

// C = A @ B (row-major, M x K times K x N) with 8x8 shared-memory tiles; ragged edges are
// zero-filled. Launch: block (8, 8), grid (ceil(N/8), ceil(M/8)).
extern "C" __global__ void gm_test_matmul_tiled_f32(const float* A, const float* B, float* C, int M,
                                                    int N, int K) {
    __shared__ float As[GM_TEST_TILE][GM_TEST_TILE];
    __shared__ float Bs[GM_TEST_TILE][GM_TEST_TILE + 1];
    const int tx = (int)threadIdx.x, ty = (int)threadIdx.y;
    const int row = (int)blockIdx.y * GM_TEST_TILE + ty;
    const int col = (int)blockIdx.x * GM_TEST_TILE + tx;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += GM_TEST_TILE) {
        As[ty][tx] = (row < M && k0 + tx < K) ? A[(gm_index_t)row * K + k0 + tx] : 0.0f;
        Bs[ty][tx] = (col < N && k0 + ty < K) ? B[(gm_index_t)(k0 + ty) * N + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < GM_TEST_TILE; ++k) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
    }
    if (row < M && col < N) C[(gm_index_t)row * N + col] = acc;
}

// out[0] += sum(x): grid-stride loads, warp reduction with __shfl_down_sync, per-warp partials
// in dynamic shared memory (blockDim.x / 32 floats), a second reduction with __shfl_xor_sync,
// one float atomicAdd per block. blockDim.x must be a multiple of 32.
extern "C" __global__ void gm_test_block_sum_f32(const float* x, float* out, gm_index_t n) {
    GM_DYNAMIC_SHARED(float, partial);
    float v = 0.0f;
    for (gm_index_t i = gm_global_thread_index(); i < n; i += gm_grid_stride()) v += x[i];
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    const int lane = (int)(threadIdx.x & 31u), warp = (int)(threadIdx.x >> 5);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    const int nwarps = (int)(blockDim.x + 31u) / 32;
    if (warp == 0) {
        v = lane < nwarps ? partial[lane] : 0.0f;
        for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
        if (lane == 0) atomicAdd(out, v);
    }
}

// Every warp primitive once; one block of blockDim.x (a multiple of 32) threads,
// 12 ints of output per thread.
extern "C" __global__ void gm_test_warp_ops(const int* x, int* out) {
    const int t = (int)threadIdx.x;
    const int v = x[t];
    int* o = out + 12 * t;
    const unsigned full = 0xffffffffu;
    o[0] = __shfl_sync(full, v, 3, 8);
    o[1] = __shfl_up_sync(full, v, 1);
    o[2] = __shfl_down_sync(full, v, 2, 16);
    o[3] = __shfl_xor_sync(full, v, 5);
    o[4] = (int)__ballot_sync(full, v > 0);
    o[5] = __any_sync(full, v > 100);
    o[6] = __all_sync(full, v > -100);
    o[7] = (int)__match_any_sync(full, v & 3);
    o[8] = __reduce_add_sync(full, v);
    __syncwarp();
    o[9] = __syncthreads_count(v > 0);
    __syncwarp(full);
    o[10] = (int)(2.0 * __shfl_sync(full, 0.5 * (double)v, 31));
    if ((t & 31) < 16) {
        o[11] = __shfl_xor_sync(0x0000ffffu, v, 1);
    } else {
        o[11] = __shfl_xor_sync(0xffff0000u, v, 2);
    }
}

// 3-D grid and block: each thread writes threadIdx, blockIdx, blockDim.x, gridDim.z.
extern "C" __global__ void gm_test_indices(int* out) {
    const unsigned nb = blockDim.x * blockDim.y * blockDim.z;
    const unsigned bid = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    const unsigned tid = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    int* o = out + 8 * (gm_index_t)(bid * nb + tid);
    o[0] = (int)threadIdx.x;
    o[1] = (int)threadIdx.y;
    o[2] = (int)threadIdx.z;
    o[3] = (int)blockIdx.x;
    o[4] = (int)blockIdx.y;
    o[5] = (int)blockIdx.z;
    o[6] = (int)blockDim.x;
    o[7] = (int)gridDim.z;
}

// Histogram with integer atomics on shared and global memory (order-independent results).
extern "C" __global__ void gm_test_histogram(const int* x, unsigned int* hist, gm_index_t n, int nbins) {
    __shared__ unsigned int local[64];
    for (int b = (int)threadIdx.x; b < 64; b += (int)blockDim.x) local[b] = 0u;
    __syncthreads();
    for (gm_index_t i = gm_global_thread_index(); i < n; i += gm_grid_stride()) {
        atomicAdd(&local[x[i] % nbins], 1u);
    }
    __syncthreads();
    for (int b = (int)threadIdx.x; b < nbins; b += (int)blockDim.x) atomicAdd(&hist[b], local[b]);
}
