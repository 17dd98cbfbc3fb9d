// Shared helpers for every gpumath kernel family.
//
// Kernels are compiled by NVRTC at run time (gpumath/_kernels.py inlines this header into
// each source, so CuPy's disk cache key covers it), by nvcc in the compile check, and by a
// host C++ compiler in the emulation lane. Keep this header free of anything only one of
// them understands.
#pragma once

// 64-bit element index: DESIGN.md §3 asks for 64-bit indexing once an extent reaches 2**31,
// and elementwise kernels are memory-bound, so the wider arithmetic costs nothing measurable.
typedef long long gm_index_t;

// Global index of this thread and the grid-wide stride, for grid-stride loops.
__device__ __forceinline__ gm_index_t gm_global_thread_index() {
    return (gm_index_t)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ gm_index_t gm_grid_stride() {
    return (gm_index_t)gridDim.x * blockDim.x;
}

// True when `ptr` is aligned to `bytes` (a power of two): vector loads need it.
__device__ __forceinline__ bool gm_is_aligned(const void* ptr, unsigned long long bytes) {
    return (reinterpret_cast<unsigned long long>(ptr) & (bytes - 1)) == 0;
}
