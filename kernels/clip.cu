// Elementwise clipping with NumPy semantics: out = minimum(maximum(x, lo), hi).
//
// A bound that is absent (None in Python) is passed as -inf / +inf. NaN propagates from x
// and from either bound, exactly like np.maximum/np.minimum; fminf/fmaxf would drop it,
// which is why the comparisons are written out. No __restrict__: out may alias x (in place).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ T gm_clip_one(T v, T lo, T hi) {
    v = (v < lo || lo != lo) ? lo : v;  // maximum(v, lo), NaN-propagating
    v = (v > hi || hi != hi) ? hi : v;  // minimum(v, hi), NaN-propagating
    return v;
}

extern "C" __global__ void gm_clip_f32(const float* x, float* out, float lo, float hi, gm_index_t n) {
    for (gm_index_t i = gm_global_thread_index(); i < n; i += gm_grid_stride()) {
        out[i] = gm_clip_one(x[i], lo, hi);
    }
}

extern "C" __global__ void gm_clip_f64(const double* x, double* out, double lo, double hi, gm_index_t n) {
    for (gm_index_t i = gm_global_thread_index(); i < n; i += gm_grid_stride()) {
        out[i] = gm_clip_one(x[i], lo, hi);
    }
}
