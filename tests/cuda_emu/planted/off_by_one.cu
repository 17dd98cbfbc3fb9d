// Planted bug: off-by-one bounds. The lane must fail naming the kernel, the argument and the
// element index.
#include "common.cuh"

// `i <= n` instead of `i < n`: reads x[n] (and would write out[n]).
extern "C" __global__ void gm_planted_scale_off_by_one(const float* x, float* out, float a, gm_index_t n) {
    for (gm_index_t i = gm_global_thread_index(); i <= n; i += gm_grid_stride()) {
        out[i] = a * x[i];
    }
}

// A 3-point stencil that forgets the right edge: reads x[i + 1] for i = n - 1.
extern "C" __global__ void gm_planted_stencil_right_edge(const float* x, float* out, gm_index_t n) {
    const gm_index_t i = gm_global_thread_index();
    if (i < n) {
        const float left = i > 0 ? x[i - 1] : 0.0f;
        out[i] = left + x[i] + x[i + 1];  // BUG: x[i + 1] for i == n - 1
    }
}

// Writes one element too many (no read): caught by the guard page, or by the canary when
// the buffer is placed at the start of its pages.
extern "C" __global__ void gm_planted_fill_off_by_one(float* out, float v, gm_index_t n) {
    const gm_index_t i = gm_global_thread_index();
    if (i <= n) out[i] = v;  // BUG: i <= n
}

// Writes through a const argument (a cast-away const).
extern "C" __global__ void gm_planted_write_const(const float* x, gm_index_t n) {
    const gm_index_t i = gm_global_thread_index();
    if (i < n) ((float*)x)[i] = 0.0f;
}

// Indexes dynamic shared memory one past its end.
extern "C" __global__ void gm_planted_shared_off_by_one(float* out) {
    GM_DYNAMIC_SHARED(float, s);
    const unsigned t = threadIdx.x;
    s[t + 1] = (float)t;  // BUG: s has blockDim.x floats
    __syncthreads();
    out[t] = s[t];
}
