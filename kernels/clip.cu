// Elementwise clipping with NumPy semantics: out = minimum(maximum(x, lo), hi).
//
// A bound that is absent (None in Python) is passed as -inf / +inf. NaN propagates from x
// and from either bound, exactly like np.maximum/np.minimum; fminf/fmaxf would drop it,
// which is why the comparisons are written out. No __restrict__: out may alias x (in place).
//
// Clip is bound by memory bandwidth, so the main loop moves 16 bytes per access (float4 /
// double2), four accesses per thread per trip, when both pointers are 16-byte aligned, which
// CuPy's allocations are; a view that starts mid-allocation takes the scalar loop. The scalar
// loop also finishes the tail that does not fill a whole vector.
#include "common.cuh"

template <typename T>
__device__ __forceinline__ T gm_clip_one(T v, T lo, T hi) {
    v = (v < lo || lo != lo) ? lo : v;  // maximum(v, lo), NaN-propagating
    v = (v > hi || hi != hi) ? hi : v;  // minimum(v, hi), NaN-propagating
    return v;
}

__device__ __forceinline__ float4 gm_clip_vec(float4 v, float lo, float hi) {
    return make_float4(gm_clip_one(v.x, lo, hi), gm_clip_one(v.y, lo, hi),
                       gm_clip_one(v.z, lo, hi), gm_clip_one(v.w, lo, hi));
}

__device__ __forceinline__ double2 gm_clip_vec(double2 v, double lo, double hi) {
    return make_double2(gm_clip_one(v.x, lo, hi), gm_clip_one(v.y, lo, hi));
}

// Vectors per thread per trip of the main loop: four loads in flight before the first store
// keep more bytes moving per thread than one vector at a time does.
#define GM_CLIP_UNROLL 4

// V is the 16-byte vector of T (float4 or double2) holding W elements. Any grid works; the
// caller sizes it so that most threads make one trip of GM_CLIP_UNROLL vectors.
template <typename T, typename V, int W>
__device__ __forceinline__ void gm_clip_body(const T* x, T* out, T lo, T hi, gm_index_t n) {
    gm_index_t done = 0;
    if (gm_is_aligned(x, sizeof(V)) && gm_is_aligned(out, sizeof(V))) {
        const V* xv = reinterpret_cast<const V*>(x);
        V* ov = reinterpret_cast<V*>(out);
        const gm_index_t nv = n / W;
        const gm_index_t stride = gm_grid_stride();
        gm_index_t i = gm_global_thread_index();
        // Loads first, then stores: with out == x (in place) each element is still read
        // before it is written, and the four loads are independent of the stores.
        for (; i + (GM_CLIP_UNROLL - 1) * stride < nv; i += GM_CLIP_UNROLL * stride) {
            V v[GM_CLIP_UNROLL];
#pragma unroll
            for (int u = 0; u < GM_CLIP_UNROLL; ++u) v[u] = xv[i + u * stride];
#pragma unroll
            for (int u = 0; u < GM_CLIP_UNROLL; ++u) ov[i + u * stride] = gm_clip_vec(v[u], lo, hi);
        }
        for (; i < nv; i += stride) ov[i] = gm_clip_vec(xv[i], lo, hi);
        done = nv * W;
    }
    for (gm_index_t i = done + gm_global_thread_index(); i < n; i += gm_grid_stride()) {
        out[i] = gm_clip_one(x[i], lo, hi);
    }
}

extern "C" __global__ void gm_clip_f32(const float* x, float* out, float lo, float hi,
                                       gm_index_t n) {
    gm_clip_body<float, float4, 4>(x, out, lo, hi, n);
}

extern "C" __global__ void gm_clip_f64(const double* x, double* out, double lo, double hi,
                                       gm_index_t n) {
    gm_clip_body<double, double2, 2>(x, out, lo, hi, n);
}
