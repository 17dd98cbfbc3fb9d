// Planted bug: a tiled kernel with a __syncthreads() missing. The lane must catch each as a
// data race (the result depends on the order in which threads run between barriers).
#include "common.cuh"

#define GM_TILE 8

// The barrier between loading the tiles and using them is missing: a thread reads tile
// entries that other threads have not written yet.
extern "C" __global__ void gm_planted_matmul_no_sync_after_load(const float* A, const float* B, float* C,
                                                                int M, int N, int K) {
    __shared__ float As[GM_TILE][GM_TILE];
    __shared__ float Bs[GM_TILE][GM_TILE + 1];
    const int tx = (int)threadIdx.x, ty = (int)threadIdx.y;
    const int row = (int)blockIdx.y * GM_TILE + ty, col = (int)blockIdx.x * GM_TILE + tx;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += GM_TILE) {
        As[ty][tx] = (row < M && k0 + tx < K) ? A[(gm_index_t)row * K + k0 + tx] : 0.0f;
        Bs[ty][tx] = (col < N && k0 + ty < K) ? B[(gm_index_t)(k0 + ty) * N + col] : 0.0f;
        // BUG: __syncthreads(); missing here
        for (int k = 0; k < GM_TILE; ++k) acc += As[ty][k] * Bs[k][tx];
        __syncthreads();
    }
    if (row < M && col < N) C[(gm_index_t)row * N + col] = acc;
}

// The barrier after using the tiles is missing: a fast thread overwrites its tile entry with
// the next tile while slower threads still read the current one.
extern "C" __global__ void gm_planted_matmul_no_sync_after_compute(const float* A, const float* B,
                                                                   float* C, int M, int N, int K) {
    __shared__ float As[GM_TILE][GM_TILE];
    __shared__ float Bs[GM_TILE][GM_TILE + 1];
    const int tx = (int)threadIdx.x, ty = (int)threadIdx.y;
    const int row = (int)blockIdx.y * GM_TILE + ty, col = (int)blockIdx.x * GM_TILE + tx;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += GM_TILE) {
        As[ty][tx] = (row < M && k0 + tx < K) ? A[(gm_index_t)row * K + k0 + tx] : 0.0f;
        Bs[ty][tx] = (col < N && k0 + ty < K) ? B[(gm_index_t)(k0 + ty) * N + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < GM_TILE; ++k) acc += As[ty][k] * Bs[k][tx];
        // BUG: __syncthreads(); missing here
    }
    if (row < M && col < N) C[(gm_index_t)row * N + col] = acc;
}

// Reverse each block's slice through shared memory, without the barrier in between.
extern "C" __global__ void gm_planted_block_reverse_no_sync(const float* x, float* out) {
    __shared__ float s[256];
    const unsigned t = threadIdx.x;
    const gm_index_t base = (gm_index_t)blockIdx.x * blockDim.x;
    s[t] = x[base + t];
    // BUG: __syncthreads(); missing here
    out[base + t] = s[blockDim.x - 1 - t];
}
