// Planted bugs around warp primitives and endless kernels.
#include "common.cuh"

// Lanes 16..31 leave, then the warp shuffles with a full mask: a deadlock on the GPU.
extern "C" __global__ void gm_planted_shuffle_after_exit(const float* x, float* out) {
    const unsigned lane = threadIdx.x & 31u;
    if (lane >= 16) return;  // BUG: these lanes are named in the mask below
    out[threadIdx.x] = __shfl_down_sync(0xffffffffu, x[threadIdx.x], 1);
}

// The mask does not name the calling lane.
extern "C" __global__ void gm_planted_mask_without_self(const int* x, int* out) {
    out[threadIdx.x] = __shfl_sync(0x1u, x[threadIdx.x], 0);  // BUG: only lane 0 in the mask
}

// Thread 0 waits for a flag no thread ever sets: never finishes.
extern "C" __global__ void gm_planted_spin_forever(int* flag) {
    if (threadIdx.x == 0) {
        while (*(volatile int*)flag == 0) {
        }
    }
}

// Two threads of different warps write the same element with different values.
extern "C" __global__ void gm_planted_write_conflict(int* out) {
    out[0] = (int)threadIdx.x;  // BUG: every thread writes out[0]
}

// Integer division by zero: garbage on a GPU, SIGFPE on the CPU; the lane reports it.
extern "C" __global__ void gm_planted_int_div_zero(const int* x, int* out, int d) {
    out[threadIdx.x] = x[threadIdx.x] / d;
}
