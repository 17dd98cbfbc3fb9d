// Planted bug: a __syncthreads() that not every thread of the block reaches. On a GPU this
// hangs or is undefined; the lane must fail with a clear message instead of hanging.
#include "common.cuh"

// The barrier sits inside a branch that only half the block takes.
extern "C" __global__ void gm_planted_barrier_in_branch(const float* x, float* out) {
    __shared__ float s[256];
    const unsigned t = threadIdx.x;
    if (t < blockDim.x / 2) {
        s[t] = x[t];
        __syncthreads();  // BUG: the other half never gets here
        out[t] = s[blockDim.x / 2 - 1 - t];
    }
}

// Both branches have a barrier, but they are different barriers.
extern "C" __global__ void gm_planted_barrier_two_sites(const float* x, float* out) {
    __shared__ float s[256];
    const unsigned t = threadIdx.x;
    s[t] = x[t];
    if (t % 2 == 0) {
        __syncthreads();  // BUG: even threads wait here ...
        out[t] = s[t + 1];
    } else {
        __syncthreads();  // ... odd threads here
        out[t] = s[t - 1];
    }
}

// An early return before a barrier: threads past the end of a ragged last block leave.
extern "C" __global__ void gm_planted_early_return(const float* x, float* out, gm_index_t n) {
    __shared__ float s[256];
    const gm_index_t i = gm_global_thread_index();
    if (i >= n) return;  // BUG: these threads skip the barrier below
    s[threadIdx.x] = x[i];
    __syncthreads();
    out[i] = s[threadIdx.x] * 2.0f;
}
