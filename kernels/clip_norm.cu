// Clipping by L2 norm over many arrays at once (gpumath.ops.clip_norm), as a kernel pair:
//
//   gm_sumsq_*  one block per chunk (a piece of one array, cut by the caller): the chunk's
//               sum of squares (float64 accumulation) goes to partials[chunk]; the last block
//               to finish (an integer atomic ticket) adds the partials in index order and
//               writes the norm, the scale factor and the norm in the data's dtype. The sum
//               is deterministic: no floating-point atomics, a fixed reduction order.
//   gm_scale_*  one block per chunk again: out = x * scale.
//
// The arrays are separate allocations. The caller passes one of them as `x` and, per chunk,
// an int64 triple (src, dst, len): src is the chunk's element offset from `x` (negative for
// arrays below it in memory), dst its element offset in the one output buffer, len its length.
// The scale is read on the device: the host never waits for the norm.
//
// scale = 1 when norm <= max_norm, else max_norm / norm; a NaN norm fails the comparison and
// gives a NaN scale, so NaN propagates to every output; an infinite norm gives scale 0.
//
// Both kernels are bound by memory bandwidth: each thread moves 16-byte vectors (float4 /
// double2), four per loop trip, when the chunk's pointers are 16-byte aligned, else scalars.
#include "common.cuh"

#define GM_CN_THREADS 256

__device__ __forceinline__ double gm_cn_sq(float4 v) {
    return (double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z + (double)v.w * v.w;
}
__device__ __forceinline__ double gm_cn_sq(double2 v) { return v.x * v.x + v.y * v.y; }
__device__ __forceinline__ float4 gm_cn_mul(float4 v, float s) {
    return make_float4(v.x * s, v.y * s, v.z * s, v.w * s);
}
__device__ __forceinline__ double2 gm_cn_mul(double2 v, double s) {
    return make_double2(v.x * s, v.y * s);
}

// Sum of `value` over the block's threads, in a fixed tree order; every thread gets it.
__device__ __forceinline__ double gm_cn_block_sum(double value, double* shared) {
    const int tid = threadIdx.x;
    shared[tid] = value;
    __syncthreads();
    for (int half = GM_CN_THREADS / 2; half > 0; half /= 2) {
        if (tid < half) shared[tid] += shared[tid + half];
        __syncthreads();
    }
    const double total = shared[0];
    __syncthreads();  // shared[] may be reused right after
    return total;
}

template <typename T, typename V, int W>
__device__ __forceinline__ void gm_sumsq_body(const T* __restrict__ x,
                                              const gm_index_t* __restrict__ chunks,
                                              double* __restrict__ partials,
                                              unsigned int* __restrict__ arrived, double max_norm,
                                              double* __restrict__ norm_scale,
                                              T* __restrict__ norm_out) {
    __shared__ double sums[GM_CN_THREADS];
    __shared__ bool last;
    const int tid = threadIdx.x;
    const T* src = x + chunks[3 * blockIdx.x];
    const gm_index_t len = chunks[3 * blockIdx.x + 2];

    double s = 0.0;
    gm_index_t done = 0;
    if (gm_is_aligned(src, sizeof(V))) {
        const V* v = reinterpret_cast<const V*>(src);
        const gm_index_t nv = len / W;
#pragma unroll 4
        for (gm_index_t i = tid; i < nv; i += GM_CN_THREADS) s += gm_cn_sq(v[i]);
        done = nv * W;
    }
    for (gm_index_t i = done + tid; i < len; i += GM_CN_THREADS) s += (double)src[i] * src[i];
    s = gm_cn_block_sum(s, sums);

    if (tid == 0) {
        partials[blockIdx.x] = s;
        __threadfence();  // the partial is visible to every block before the ticket is taken
        last = atomicAdd(arrived, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (!last) return;

    // The last block: every partial is written. volatile: read them from memory, not L1.
    const volatile double* all = partials;
    double t = 0.0;
    for (unsigned int i = tid; i < gridDim.x; i += GM_CN_THREADS) t += all[i];
    t = gm_cn_block_sum(t, sums);
    if (tid == 0) {
        const double norm = sqrt(t);
        norm_scale[0] = norm;
        norm_scale[1] = norm <= max_norm ? 1.0 : max_norm / norm;
        norm_out[0] = (T)norm;
        *arrived = 0u;  // the counter is ready for another launch
    }
}

template <typename T, typename V, int W>
__device__ __forceinline__ void gm_scale_body(const T* __restrict__ x, T* __restrict__ out,
                                              const gm_index_t* __restrict__ chunks,
                                              const double* __restrict__ norm_scale) {
    const T scale = (T)norm_scale[1];
    const T* src = x + chunks[3 * blockIdx.x];
    T* dst = out + chunks[3 * blockIdx.x + 1];
    const gm_index_t len = chunks[3 * blockIdx.x + 2];
    const int tid = threadIdx.x;
    gm_index_t done = 0;
    if (gm_is_aligned(src, sizeof(V)) && gm_is_aligned(dst, sizeof(V))) {
        const V* sv = reinterpret_cast<const V*>(src);
        V* dv = reinterpret_cast<V*>(dst);
        const gm_index_t nv = len / W;
#pragma unroll 4
        for (gm_index_t i = tid; i < nv; i += GM_CN_THREADS) dv[i] = gm_cn_mul(sv[i], scale);
        done = nv * W;
    }
    for (gm_index_t i = done + tid; i < len; i += GM_CN_THREADS) dst[i] = src[i] * scale;
}

// Launch: grid (number of chunks), block (GM_CN_THREADS); `arrived` is zero before the launch
// (and again after it); partials has one slot per chunk; norm_scale two.
extern "C" __global__ void __launch_bounds__(GM_CN_THREADS)
    gm_sumsq_f32(const float* __restrict__ x, const gm_index_t* __restrict__ chunks,
                 double* __restrict__ partials, unsigned int* __restrict__ arrived,
                 double max_norm, double* __restrict__ norm_scale, float* __restrict__ norm_out) {
    gm_sumsq_body<float, float4, 4>(x, chunks, partials, arrived, max_norm, norm_scale, norm_out);
}

extern "C" __global__ void __launch_bounds__(GM_CN_THREADS)
    gm_sumsq_f64(const double* __restrict__ x, const gm_index_t* __restrict__ chunks,
                 double* __restrict__ partials, unsigned int* __restrict__ arrived,
                 double max_norm, double* __restrict__ norm_scale, double* __restrict__ norm_out) {
    gm_sumsq_body<double, double2, 2>(x, chunks, partials, arrived, max_norm, norm_scale,
                                      norm_out);
}

// Launch: grid (number of chunks), block (GM_CN_THREADS), after gm_sumsq_* on the same stream.
extern "C" __global__ void __launch_bounds__(GM_CN_THREADS)
    gm_scale_f32(const float* __restrict__ x, float* __restrict__ out,
                 const gm_index_t* __restrict__ chunks, const double* __restrict__ norm_scale) {
    gm_scale_body<float, float4, 4>(x, out, chunks, norm_scale);
}

extern "C" __global__ void __launch_bounds__(GM_CN_THREADS)
    gm_scale_f64(const double* __restrict__ x, double* __restrict__ out,
                 const gm_index_t* __restrict__ chunks, const double* __restrict__ norm_scale) {
    gm_scale_body<double, double2, 2>(x, out, chunks, norm_scale);
}
