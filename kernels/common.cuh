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

// Which (tile_m, tile_n) of a tiles_m x tiles_n grid of C tiles block `pid` computes, in a
// GEMM launched as a 1-D grid: consecutive blocks sweep `group_m` tile rows column by column,
// so the A and B panels they read stay in L2 between them.
__device__ __forceinline__ void gm_grouped_tile(int pid, int tiles_m, int tiles_n, int group_m,
                                                int& tile_m, int& tile_n) {
    const int per_group = group_m * tiles_n;
    const int first_m = (pid / per_group) * group_m;
    const int rows_here = min(tiles_m - first_m, group_m);
    const int in_group = pid % per_group;
    tile_m = first_m + in_group % rows_here;
    tile_n = in_group / rows_here;
}

// One source for both compilers (the emulation lane, tests/cuda_emu, defines GM_EMU):
//
// GM_DYNAMIC_SHARED(T, name) declares `T* name` pointing at the launch's dynamic shared
// memory (16-byte aligned). Use it instead of `extern __shared__ T name[];`, which host C++
// cannot express.
#if defined(GM_EMU)
#define GM_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(gm_emu_dynamic_shared())
#else
#define GM_DYNAMIC_SHARED(T, name)                                     \
    extern __shared__ __align__(16) unsigned char gm_dynamic_shared_[]; \
    T* name = reinterpret_cast<T*>(gm_dynamic_shared_)
#endif

// GM_HAS_INLINE_PTX is 1 when compiling device code for a GPU (NVRTC, nvcc's device pass)
// and 0 in the emulation lane and in nvcc's host pass. Inline PTX (mma.sync, ldmatrix, cp.async)
// goes under `#if GM_HAS_INLINE_PTX && __CUDA_ARCH__ >= 800`, next to a plain-CUDA path that
// the lane tests.
#if defined(__CUDA_ARCH__) && !defined(GM_EMU)
#define GM_HAS_INLINE_PTX 1
#else
#define GM_HAS_INLINE_PTX 0
#endif
