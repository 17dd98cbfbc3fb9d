// Fused single-pass moments: count, mean, central moment sums M2..M4, min and max of each
// row of a C-contiguous (batch, length) array, in one read of the data (gpumath.stats).
//
// A moment record is 7 doubles {n, mean, M2, M3, M4, min, max}, with Mp = sum((x - mean)^p).
// Records merge exactly with the formulas of Chan et al. (1979) and Pébay (2008), so the
// reduction is a tree of merges: thread -> warp (shuffles) -> block (shared memory) -> one
// partial record per block (gm_moments_partial_*) -> one record per row (gm_moments_merge_*).
// No atomics: the merge order is fixed by the launch geometry, so results are deterministic.
//
// Each thread walks its grid-stride range in chunks of GM_MOM_CHUNK loads. Inside a chunk it
// sums powers of d = x - K in double (also for float data), where the shift K is the chunk's
// first value; at the end of the chunk the shifted sums become a central record
// (mean = K + s1/c, M2 = s2 - s1 u, ...) merged into the thread's record. Because K is a
// member of the chunk, the conversion cancels at most a factor of about the chunk size, and
// the per-value work is a handful of adds and FMAs with no division: the divisions are per
// chunk. Record means are kept relative to the row's first value, the pilot p = x[0]
// (K - p is exact for nearby values), so the means of data far from zero (1e8 + small
// noise) keep their absolute precision through every merge, whose first-order error would
// otherwise reach M3; the merge kernel adds p back.
//
// Requirements (met by the Python side): blockDim.x is a multiple of 32, at most 1024 (256
// for the partial kernel). An infinite value makes the moments NaN (inf - inf), where
// NumPy's mean is ±inf (the Python side, moments_cuda, restores that mean from min and max);
// min and max are NumPy's.
#include "common.cuh"

#define GM_MOM_FIELDS 7
#define GM_MOM_CHUNK 8
#define GM_MOM_MAX_WARPS 32
// The partial kernel is launched with at most this many threads per block. Two such blocks
// fit on an SM (ptxas: about 120 registers; the bound makes sure for float32): 16 warps per
// SM with 8 loads each in flight, more than enough to cover memory latency.
#define GM_MOM_PARTIAL_BLOCK 256

struct GmMoments {
    double n, mean, m2, m3, m4, lo, hi;
};

__device__ __forceinline__ double gm_mom_inf() { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double gm_mom_nan() { return __longlong_as_double(0x7ff8000000000000LL); }

__device__ __forceinline__ GmMoments gm_mom_empty() {
    GmMoments r;
    r.n = 0.0;
    r.mean = 0.0;
    r.m2 = 0.0;
    r.m3 = 0.0;
    r.m4 = 0.0;
    r.lo = gm_mom_inf();
    r.hi = -gm_mom_inf();
    return r;
}

// NaN-propagating min/max, like numpy.minimum/maximum (fmin/fmax would drop the NaN).
__device__ __forceinline__ double gm_mom_min(double a, double b) { return (a < b || a != a) ? a : b; }
__device__ __forceinline__ double gm_mom_max(double a, double b) { return (a > b || a != a) ? a : b; }

// Chan/Pébay merge of two records; either may be empty (n == 0).
__device__ __forceinline__ GmMoments gm_mom_merge(const GmMoments& a, const GmMoments& b) {
    if (b.n == 0.0) return a;
    if (a.n == 0.0) return b;
    GmMoments r;
    const double na = a.n, nb = b.n, n = na + nb;
    const double delta = b.mean - a.mean;
    const double dn = delta / n;
    const double dn2 = dn * dn;
    const double nanb = na * nb;
    r.n = n;
    r.mean = a.mean + nb * dn;
    r.m2 = a.m2 + b.m2 + delta * dn * nanb;
    r.m3 = a.m3 + b.m3 + delta * dn2 * nanb * (na - nb) + 3.0 * dn * (na * b.m2 - nb * a.m2);
    r.m4 = a.m4 + b.m4 + delta * dn2 * dn * nanb * (na * na - nanb + nb * nb) +
           6.0 * dn2 * (na * na * b.m2 + nb * nb * a.m2) + 4.0 * dn * (na * b.m3 - nb * a.m3);
    r.lo = gm_mom_min(a.lo, b.lo);
    r.hi = gm_mom_max(a.hi, b.hi);
    return r;
}

// Sums of powers of d = x - shift over one chunk of one thread, and its min/max in T.
template <typename T>
struct GmChunk {
    double shift, s1, s2, s3, s4;
    T lo, hi;
    bool nan;  // fminf/fmaxf drop NaN; this flag restores NumPy's NaN-propagating min/max
};

__device__ __forceinline__ float gm_mom_fmin(float a, float b) { return fminf(a, b); }
__device__ __forceinline__ float gm_mom_fmax(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double gm_mom_fmin(double a, double b) { return fmin(a, b); }
__device__ __forceinline__ double gm_mom_fmax(double a, double b) { return fmax(a, b); }

template <typename T>
__device__ __forceinline__ GmChunk<T> gm_chunk_start(T first) {
    GmChunk<T> s;
    s.shift = (double)first;
    s.s1 = 0.0;
    s.s2 = 0.0;
    s.s3 = 0.0;
    s.s4 = 0.0;
    s.lo = first;
    s.hi = first;
    s.nan = false;
    return s;
}

// Per value: one conversion, one subtraction, two adds, one multiply, two FMAs in double
// (x - shift is exact for float data) and a cheap min/max in T.
template <typename T>
__device__ __forceinline__ void gm_chunk_push(GmChunk<T>& s, T v) {
    const double d = (double)v - s.shift;
    const double d2 = d * d;
    s.s1 += d;
    s.s2 += d2;
    s.s3 = fma(d2, d, s.s3);
    s.s4 = fma(d2, d2, s.s4);
    s.lo = gm_mom_fmin(s.lo, v);
    s.hi = gm_mom_fmax(s.hi, v);
    s.nan = s.nan || v != v;
}

// Central record of a chunk of `c` values from its shifted power sums (u = mean - shift),
// its mean taken relative to `pilot`: (shift - pilot) is exact for nearby values.
template <typename T>
__device__ __forceinline__ GmMoments gm_chunk_record(const GmChunk<T>& s, double c, double pilot) {
    GmMoments r;
    const double u = s.s1 / c;
    const double u2 = u * u;
    const double m2 = s.s2 - s.s1 * u;
    const double m4 = s.s4 - 4.0 * u * s.s3 + 6.0 * u2 * s.s2 - 3.0 * u2 * u * s.s1;
    r.n = c;
    r.mean = (s.shift - pilot) + u;
    r.m2 = m2 < 0.0 ? 0.0 : m2;  // rounding only; `<` keeps NaN
    r.m3 = s.s3 - 3.0 * u * s.s2 + 2.0 * u2 * s.s1;
    r.m4 = m4 < 0.0 ? 0.0 : m4;
    r.lo = s.nan ? gm_mom_nan() : (double)s.lo;
    r.hi = s.nan ? gm_mom_nan() : (double)s.hi;
    return r;
}

// Vector loads: W values of T per 16-byte V (float4 / double2), or W = 1 for scalars.
__device__ __forceinline__ void gm_chunk_push_vec(GmChunk<float>& s, float4 v) {
    gm_chunk_push(s, v.x);
    gm_chunk_push(s, v.y);
    gm_chunk_push(s, v.z);
    gm_chunk_push(s, v.w);
}
__device__ __forceinline__ void gm_chunk_push_vec(GmChunk<double>& s, double2 v) {
    gm_chunk_push(s, v.x);
    gm_chunk_push(s, v.y);
}
__device__ __forceinline__ void gm_chunk_push_vec(GmChunk<float>& s, float v) { gm_chunk_push(s, v); }
__device__ __forceinline__ void gm_chunk_push_vec(GmChunk<double>& s, double v) { gm_chunk_push(s, v); }

__device__ __forceinline__ float gm_mom_first(float4 v) { return v.x; }
__device__ __forceinline__ double gm_mom_first(double2 v) { return v.x; }
__device__ __forceinline__ float gm_mom_first(float v) { return v; }
__device__ __forceinline__ double gm_mom_first(double v) { return v; }

// Accumulate items [0, count) of `items` (this thread's grid-stride share, starting at
// `first` with step `stride`) into `r`, relative to `pilot`, GM_MOM_CHUNK loads per chunk.
// The loads of a chunk are independent of each other, so they are all in flight before the
// arithmetic needs them; the valid loads of a chunk are a prefix j < valid.
template <typename T, typename V, int W>
__device__ __forceinline__ void gm_mom_accumulate(GmMoments& r, const V* items, gm_index_t count,
                                                  gm_index_t first, gm_index_t stride,
                                                  double pilot) {
    for (gm_index_t base = first; base < count; base += stride * GM_MOM_CHUNK) {
        V v[GM_MOM_CHUNK];
        int valid = 0;
#pragma unroll
        for (int j = 0; j < GM_MOM_CHUNK; ++j) {
            const gm_index_t i = base + j * stride;
            if (i < count) {
                v[j] = items[i];
                ++valid;
            }
        }
        GmChunk<T> s = gm_chunk_start<T>(gm_mom_first(v[0]));
#pragma unroll
        for (int j = 0; j < GM_MOM_CHUNK; ++j) {
            if (j < valid) gm_chunk_push_vec(s, v[j]);
        }
        r = gm_mom_merge(r, gm_chunk_record(s, (double)(valid * W), pilot));
    }
}

__device__ __forceinline__ GmMoments gm_mom_shfl_down(const GmMoments& a, int offset) {
    GmMoments b;
    b.n = __shfl_down_sync(0xffffffffu, a.n, offset);
    b.mean = __shfl_down_sync(0xffffffffu, a.mean, offset);
    b.m2 = __shfl_down_sync(0xffffffffu, a.m2, offset);
    b.m3 = __shfl_down_sync(0xffffffffu, a.m3, offset);
    b.m4 = __shfl_down_sync(0xffffffffu, a.m4, offset);
    b.lo = __shfl_down_sync(0xffffffffu, a.lo, offset);
    b.hi = __shfl_down_sync(0xffffffffu, a.hi, offset);
    return b;
}

// Merge the records of the whole block; thread 0 returns the block's record. Lanes beyond
// the warp's end in a shuffle get their own value back, which only lanes other than 0 use.
__device__ __forceinline__ GmMoments gm_mom_block_merge(GmMoments r) {
    __shared__ GmMoments warp_records[GM_MOM_MAX_WARPS];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    for (int offset = 16; offset > 0; offset >>= 1) r = gm_mom_merge(r, gm_mom_shfl_down(r, offset));
    if (lane == 0) warp_records[warp] = r;
    __syncthreads();
    if (warp == 0) {
        const int warps = (int)(blockDim.x >> 5);
        r = lane < warps ? warp_records[lane] : gm_mom_empty();
        for (int offset = 16; offset > 0; offset >>= 1) r = gm_mom_merge(r, gm_mom_shfl_down(r, offset));
    }
    __syncthreads();  // warp_records is reused by the next row of this block
    return r;
}

__device__ __forceinline__ void gm_mom_store(double* dst, const GmMoments& r) {
    dst[0] = r.n;
    dst[1] = r.mean;
    dst[2] = r.m2;
    dst[3] = r.m3;
    dst[4] = r.m4;
    dst[5] = r.lo;
    dst[6] = r.hi;
}

__device__ __forceinline__ GmMoments gm_mom_load(const double* src) {
    GmMoments r;
    r.n = src[0];
    r.mean = src[1];
    r.m2 = src[2];
    r.m3 = src[3];
    r.m4 = src[4];
    r.lo = src[5];
    r.hi = src[6];
    return r;
}

// Pass 1: block b of the grid's x dimension writes the record of its share of each row to
// partials[(row * gridDim.x + b) * 7 ...], the mean relative to the row's first value. Rows
// are spread over the grid's y dimension; `length` >= 1.
template <typename T, typename V, int W>
__device__ __forceinline__ void gm_moments_partial_body(const T* x, double* partials,
                                                        gm_index_t length, gm_index_t batch) {
    const gm_index_t first = (gm_index_t)blockIdx.x * blockDim.x + threadIdx.x;
    const gm_index_t stride = (gm_index_t)gridDim.x * blockDim.x;
    for (gm_index_t row = blockIdx.y; row < batch; row += gridDim.y) {
        const T* data = x + row * length;
        const double pilot = (double)data[0];
        GmMoments r = gm_mom_empty();
        gm_index_t done = 0;
        if (gm_is_aligned(data, sizeof(V))) {
            const gm_index_t nv = length / W;
            gm_mom_accumulate<T, V, W>(r, reinterpret_cast<const V*>(data), nv, first, stride,
                                       pilot);
            done = nv * W;
        }
        gm_mom_accumulate<T, T, 1>(r, data + done, length - done, first, stride, pilot);
        r = gm_mom_block_merge(r);
        if (threadIdx.x == 0) {
            gm_mom_store(partials + (row * gridDim.x + blockIdx.x) * GM_MOM_FIELDS, r);
        }
    }
}

extern "C" __global__ void __launch_bounds__(GM_MOM_PARTIAL_BLOCK, 2)
    gm_moments_partial_f32(const float* x, double* partials, gm_index_t length, gm_index_t batch) {
    gm_moments_partial_body<float, float4, 4>(x, partials, length, batch);
}

extern "C" __global__ void gm_moments_partial_f64(const double* x, double* partials,
                                                  gm_index_t length, gm_index_t batch) {
    gm_moments_partial_body<double, double2, 2>(x, partials, length, batch);
}

// Pass 2: one block per row merges that row's `parts` partial records into records[row * 7]
// (the mean still relative to the row's first value x[row * length]) and writes the statistics of describe to stats[k * batch + row] in the data's type T:
// k = 0 mean, 1 variance with `ddof`, 2 skewness, 3 kurtosis (SciPy's definitions; `bias`
// and `fisher` are 0 or 1), 4 min, 5 max. Like scipy.stats.skew/kurtosis, skewness and
// kurtosis are NaN where M2/n <= (eps * mean)^2 (`eps`: machine epsilon of T), i.e. where
// the data are constant to within rounding.
template <typename T>
__device__ __forceinline__ void gm_moments_merge_body(const T* x, const double* partials,
                                                      double* records, T* stats, gm_index_t length,
                                                      gm_index_t parts, gm_index_t batch,
                                                      double ddof, int bias, int fisher,
                                                      double eps) {
    for (gm_index_t row = blockIdx.x; row < batch; row += gridDim.x) {
        GmMoments r = gm_mom_empty();
        for (gm_index_t p = threadIdx.x; p < parts; p += blockDim.x) {
            r = gm_mom_merge(r, gm_mom_load(partials + (row * parts + p) * GM_MOM_FIELDS));
        }
        r = gm_mom_block_merge(r);
        if (threadIdx.x != 0) continue;
        gm_mom_store(records + row * GM_MOM_FIELDS, r);
        const double n = r.n, nan = gm_mom_nan();
        const double mean = (double)x[row * length] + r.mean;
        const double m2 = r.m2 / n, m3 = r.m3 / n, m4 = r.m4 / n;
        const bool flat = m2 <= (eps * mean) * (eps * mean);
        double sk = flat ? nan : m3 / (m2 * sqrt(m2));
        double ku = flat ? nan : m4 / (m2 * m2);
        if (!bias && !flat && n > 2.0) sk *= sqrt((n - 1.0) * n) / (n - 2.0);
        if (!bias && !flat && n > 3.0) {
            ku = ((n * n - 1.0) * ku - 3.0 * (n - 1.0) * (n - 1.0)) / ((n - 2.0) * (n - 3.0)) + 3.0;
        }
        if (fisher) ku -= 3.0;
        stats[0 * batch + row] = (T)mean;
        stats[1 * batch + row] = (T)(n - ddof > 0.0 ? r.m2 / (n - ddof) : nan);
        stats[2 * batch + row] = (T)sk;
        stats[3 * batch + row] = (T)ku;
        stats[4 * batch + row] = (T)r.lo;
        stats[5 * batch + row] = (T)r.hi;
    }
}

extern "C" __global__ void gm_moments_merge_f32(const float* x, const double* partials,
                                                double* records, float* stats, gm_index_t length,
                                                gm_index_t parts, gm_index_t batch, double ddof,
                                                int bias, int fisher, double eps) {
    gm_moments_merge_body<float>(x, partials, records, stats, length, parts, batch, ddof, bias,
                                 fisher, eps);
}

extern "C" __global__ void gm_moments_merge_f64(const double* x, const double* partials,
                                                double* records, double* stats, gm_index_t length,
                                                gm_index_t parts, gm_index_t batch, double ddof,
                                                int bias, int fisher, double eps) {
    gm_moments_merge_body<double>(x, partials, records, stats, length, parts, batch, ddof, bias,
                                  fisher, eps);
}
