// Convolution (cross-correlation, deep-learning semantics) of x (N, C, D, H, W) with
// w (K, C/G, KD, KH, KW) into out (N, K, OD, OH, OW), all C-contiguous; 2-D data is passed
// with D = KD = OD = 1. Every kernel handles stride, padding (an offset: negative padding,
// i.e. cropping, works too), dilation and groups G; `has_bias` != 0 adds bias[k] (the bias
// pointer is then (K,); otherwise it is any valid pointer and never read).
//
// Output coordinate o reads input coordinate o * stride + t * dilation - pad for tap t;
// coordinates outside [0, size) read zero.
//
// gm_conv_direct_*: tiled direct convolution, for small channel counts. One block of 256
//   threads computes a 16 x 16 tile of output pixels of one (n, od) for GM_CD_KB output
//   channels of one group; each thread owns one pixel and GM_CD_KB accumulators. For each
//   input channel and depth tap, the block stages the input tile with its halo,
//   ((16 - 1) * stride + (KH - 1) * dilation + 1) rows by the same in columns, in dynamic
//   shared memory (the caller sizes it); weights are read straight from global memory at
//   block-uniform addresses (one broadcast load per warp).
//   Launch: grid (tiles_h * tiles_w * N * OD, G * ceil((K/G) / GM_CD_KB)), block (256).
//   __launch_bounds__(256, 1): without the explicit 1, ptxas capped the float32 kernel at
//   64 registers and spilled (CUDA 13, sm_80/sm_90).
//
// gm_conv_igemm_*: implicit GEMM. Per group, out[k, p] = sum_r w[k, r] * col[r, p] with
//   r = (c, td, th, tw) and p = (n, od, oh, ow); col is never materialised: each K step
//   gathers its BK x 128 slice of it from x into shared memory (zero at the padding), next
//   to a 64 x BK slice of w. `taps` (R entries of int4, built by the caller) decodes r into
//   (c, td * dd, th * dh, tw * dw), so the gather does no integer division. 256 threads,
//   4 x 8 outputs per thread (channels ty * 4 + i, pixels tx * 4 + j % 4 + 64 * (j / 4)):
//   the compute loop reads shared memory as 16-byte vectors, 3 per 32 FMAs. Two shared
//   stages: the next step is gathered into registers while the current one is multiplied.
//   BK = 16 (float32) or 8 (float64): 24 KiB of static shared memory either way.
//   Launch: grid (ceil(N * OD * OH * OW / 128), G * ceil((K/G) / 64)), block (256).
//
// Extents and N * OD * OH * OW, (C/G) * KD * KH * KW are int (the caller checks < 2**31);
// element offsets are 64-bit. Only standard CUDA C++, static or GM_DYNAMIC_SHARED memory:
// the emulation lane compiles this file unchanged.
#include "common.cuh"

#define GM_CONV_THREADS 256
#define GM_CD_TILE 16
#define GM_CD_KB 8

struct GmConvGeom {
    int N, C, D, H, W, K, KD, KH, KW, OD, OH, OW;
    int sd, sh, sw, pd, ph, pw, dd, dh, dw, G;
};

#define GM_CONV_PARAMS                                                                         \
    int N, int C, int D, int H, int W, int K, int KD, int KH, int KW, int OD, int OH, int OW,  \
        int sd, int sh, int sw, int pd, int ph, int pw, int dd, int dh, int dw, int G
#define GM_CONV_ARGS \
    {N, C, D, H, W, K, KD, KH, KW, OD, OH, OW, sd, sh, sw, pd, ph, pw, dd, dh, dw, G}

// ------------------------------------------------------------------------------ direct

template <typename T>
__device__ __forceinline__ void gm_conv_direct_body(const T* __restrict__ x,
                                                    const T* __restrict__ w,
                                                    const T* __restrict__ bias, int has_bias,
                                                    T* __restrict__ out, const GmConvGeom g) {
    GM_DYNAMIC_SHARED(T, tile);
    const int tid = threadIdx.x;
    const int tx = tid % GM_CD_TILE, ty = tid / GM_CD_TILE;
    const int tiles_w = (g.OW + GM_CD_TILE - 1) / GM_CD_TILE;
    const int tiles_h = (g.OH + GM_CD_TILE - 1) / GM_CD_TILE;
    int b = blockIdx.x;
    const int tile_w = b % tiles_w;
    b /= tiles_w;
    const int tile_h = b % tiles_h;
    b /= tiles_h;
    const int od = b % g.OD;
    const int n = b / g.OD;
    const int Kg = g.K / g.G, Cg = g.C / g.G;
    const int kblocks = (Kg + GM_CD_KB - 1) / GM_CD_KB;
    const int grp = blockIdx.y / kblocks;
    const int k0 = (blockIdx.y % kblocks) * GM_CD_KB;  // first output channel in the group
    const int kcount = min(GM_CD_KB, Kg - k0);
    const int oh = tile_h * GM_CD_TILE + ty, ow = tile_w * GM_CD_TILE + tx;
    const int ih0 = tile_h * GM_CD_TILE * g.sh - g.ph;  // input row of the tile's (0, 0)
    const int iw0 = tile_w * GM_CD_TILE * g.sw - g.pw;
    const int IH = (GM_CD_TILE - 1) * g.sh + (g.KH - 1) * g.dh + 1;
    const int IW = (GM_CD_TILE - 1) * g.sw + (g.KW - 1) * g.dw + 1;
    const int kvol = g.KD * g.KH * g.KW;
    const gm_index_t plane = (gm_index_t)g.H * g.W;
    const gm_index_t wstride = (gm_index_t)Cg * kvol;  // between output channels in w

    T acc[GM_CD_KB];
#pragma unroll
    for (int i = 0; i < GM_CD_KB; ++i) acc[i] = T(0);

    for (int c = 0; c < Cg; ++c) {
        const T* xc = x + ((gm_index_t)n * g.C + (gm_index_t)grp * Cg + c) * g.D * plane;
        for (int td = 0; td < g.KD; ++td) {
            const int id = od * g.sd + td * g.dd - g.pd;
            if (id < 0 || id >= g.D) continue;  // the same for the whole block
            __syncthreads();                     // everyone finished reading the last tile
            const T* xs = xc + id * plane;
            for (int i = tid; i < IH * IW; i += GM_CONV_THREADS) {
                const int ih = ih0 + i / IW, iw = iw0 + i % IW;
                tile[i] = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
                              ? xs[(gm_index_t)ih * g.W + iw]
                              : T(0);
            }
            __syncthreads();
            const T* wc = w + ((gm_index_t)grp * Kg + k0) * wstride + (gm_index_t)c * kvol +
                          td * g.KH * g.KW;
            for (int th = 0; th < g.KH; ++th) {
                const T* row = tile + (ty * g.sh + th * g.dh) * IW + tx * g.sw;
                for (int tw = 0; tw < g.KW; ++tw) {
                    const T v = row[tw * g.dw];
                    const T* wt = wc + th * g.KW + tw;
#pragma unroll
                    for (int i = 0; i < GM_CD_KB; ++i)
                        if (i < kcount) acc[i] += v * wt[i * wstride];
                }
            }
        }
    }
    if (oh >= g.OH || ow >= g.OW) return;
    const gm_index_t pix = ((gm_index_t)od * g.OH + oh) * g.OW + ow;
    const gm_index_t vol = (gm_index_t)g.OD * g.OH * g.OW;
#pragma unroll
    for (int i = 0; i < GM_CD_KB; ++i) {
        const int k = grp * Kg + k0 + i;
        if (i < kcount)
            out[((gm_index_t)n * g.K + k) * vol + pix] = acc[i] + (has_bias ? bias[k] : T(0));
    }
}

extern "C" __global__ void __launch_bounds__(GM_CONV_THREADS, 1)
    gm_conv_direct_f32(const float* __restrict__ x, const float* __restrict__ w,
                       const float* __restrict__ bias, int has_bias, float* __restrict__ out,
                       GM_CONV_PARAMS) {
    gm_conv_direct_body<float>(x, w, bias, has_bias, out, GmConvGeom GM_CONV_ARGS);
}

extern "C" __global__ void __launch_bounds__(GM_CONV_THREADS, 1)
    gm_conv_direct_f64(const double* __restrict__ x, const double* __restrict__ w,
                       const double* __restrict__ bias, int has_bias, double* __restrict__ out,
                       GM_CONV_PARAMS) {
    gm_conv_direct_body<double>(x, w, bias, has_bias, out, GmConvGeom GM_CONV_ARGS);
}

// ------------------------------------------------------------------------ implicit GEMM

#define GM_IG_BM 64   // output channels per block
#define GM_IG_BN 128  // output pixels per block
#define GM_IG_TM 4    // output channels per thread: rows ty * 4 + i
#define GM_IG_TN 8    // output pixels per thread: columns tx * 4 + j % 4 + 64 * (j / 4)

// Four consecutive shared-memory values (16-byte aligned for float, 32 for double).
__device__ __forceinline__ void gm_ig_load4(const float* p, float* r) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    r[0] = v.x;
    r[1] = v.y;
    r[2] = v.z;
    r[3] = v.w;
}

__device__ __forceinline__ void gm_ig_load4(const double* p, double* r) {
    const double2 a = *reinterpret_cast<const double2*>(p);
    const double2 b = *reinterpret_cast<const double2*>(p + 2);
    r[0] = a.x;
    r[1] = a.y;
    r[2] = b.x;
    r[3] = b.y;
}

// Gather this thread's PA elements of the w slice (row a_row, GEMM-K columns a_k ..) and PB
// elements of the col slice (GEMM-K rows b_k + (256 / BN) j, pixel column b_col) for the K
// step starting at k0. taps[r] = (c, td * dd, th * dh, tw * dw) decodes GEMM-K index r
// without integer division; the whole warp reads the same entry (a broadcast).
template <typename T, int BK, int PA, int PB>
__device__ __forceinline__ void gm_ig_fetch(const T* __restrict__ wrow, bool a_ok, int a_k,
                                            const T* __restrict__ xn,
                                            const int4* __restrict__ taps, const GmConvGeom& g,
                                            int R, int k0, bool p_ok, int id0, int ih0, int iw0,
                                            int b_k, T (&ra)[PA], T (&rb)[PB]) {
#pragma unroll
    for (int j = 0; j < PA; ++j) {
        const int r = k0 + a_k + j;
        ra[j] = (a_ok && r < R) ? wrow[r] : T(0);
    }
    const gm_index_t plane = (gm_index_t)g.H * g.W;
#pragma unroll
    for (int j = 0; j < PB; ++j) {
        const int r = k0 + b_k + (GM_CONV_THREADS / GM_IG_BN) * j;
        T v = T(0);
        if (p_ok && r < R) {
            const int4 t = taps[r];
            const int id = id0 + t.y, ih = ih0 + t.z, iw = iw0 + t.w;
            if (id >= 0 && id < g.D && ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
                v = xn[((gm_index_t)t.x * g.D + id) * plane + (gm_index_t)ih * g.W + iw];
        }
        rb[j] = v;
    }
}

template <typename T, int BK>
__device__ __forceinline__ void gm_conv_igemm_body(const T* __restrict__ x,
                                                   const T* __restrict__ w,
                                                   const int4* __restrict__ taps,
                                                   const T* __restrict__ bias, int has_bias,
                                                   T* __restrict__ out, const GmConvGeom g) {
    constexpr int PA = GM_IG_BM * BK / GM_CONV_THREADS;  // w elements per thread per step
    constexpr int PB = GM_IG_BN * BK / GM_CONV_THREADS;  // col elements per thread per step
    constexpr int BROWS = GM_CONV_THREADS / GM_IG_BN;     // col rows gathered at once
    static_assert(PA * GM_CONV_THREADS == GM_IG_BM * BK, "w slice must split evenly");
    static_assert((BK / PA) * GM_IG_BM == GM_CONV_THREADS, "one w row per BK / PA threads");
    static_assert(PB * BROWS == BK, "col slice must split evenly");
    __shared__ __align__(16) T As[2][BK][GM_IG_BM];
    __shared__ __align__(16) T Bs[2][BK][GM_IG_BN];

    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;
    const int Kg = g.K / g.G, Cg = g.C / g.G;
    const int R = Cg * g.KD * g.KH * g.KW;
    const int P = g.OD * g.OH * g.OW;
    const int NP = g.N * P;
    const int mblocks = (Kg + GM_IG_BM - 1) / GM_IG_BM;
    const int grp = blockIdx.y / mblocks;
    const int m0 = (blockIdx.y % mblocks) * GM_IG_BM;
    const int p0 = blockIdx.x * GM_IG_BN;

    // This thread's slice of w: row a_row, GEMM-K columns a_k .. a_k + PA - 1 of each step.
    const int a_row = tid / (BK / PA), a_k = (tid % (BK / PA)) * PA;
    const bool a_ok = m0 + a_row < Kg;
    const T* wrow = w + ((gm_index_t)grp * Kg + min(m0 + a_row, Kg - 1)) * R;
    // This thread's column of col: pixel p, GEMM-K rows b_k + BROWS * j of each step.
    const int b_col = tid % GM_IG_BN, b_k = tid / GM_IG_BN;
    const int p = p0 + b_col;
    const bool p_ok = p < NP;
    const int pc = p_ok ? p : 0;
    const int n = pc / P;
    const int o = pc - n * P;
    const int ow = o % g.OW, oh = (o / g.OW) % g.OH, od = o / (g.OW * g.OH);
    const int id0 = od * g.sd - g.pd, ih0 = oh * g.sh - g.ph, iw0 = ow * g.sw - g.pw;
    const T* xn = x + ((gm_index_t)n * g.C + (gm_index_t)grp * Cg) * g.D * g.H * g.W;

    T acc[GM_IG_TM][GM_IG_TN];
#pragma unroll
    for (int i = 0; i < GM_IG_TM; ++i)
#pragma unroll
        for (int j = 0; j < GM_IG_TN; ++j) acc[i][j] = T(0);

    const int steps = (R + BK - 1) / BK;
    T ra[PA], rb[PB];
    gm_ig_fetch<T, BK, PA, PB>(wrow, a_ok, a_k, xn, taps, g, R, 0, p_ok, id0, ih0, iw0, b_k, ra,
                               rb);
#pragma unroll
    for (int j = 0; j < PA; ++j) As[0][a_k + j][a_row] = ra[j];
#pragma unroll
    for (int j = 0; j < PB; ++j) Bs[0][b_k + BROWS * j][b_col] = rb[j];
    __syncthreads();

    for (int step = 0; step < steps; ++step) {
        const int cur = step & 1;
        const bool more = step + 1 < steps;
        if (more)  // in flight while this step is multiplied
            gm_ig_fetch<T, BK, PA, PB>(wrow, a_ok, a_k, xn, taps, g, R, (step + 1) * BK, p_ok,
                                       id0, ih0, iw0, b_k, ra, rb);
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
            T fa[GM_IG_TM], fb[GM_IG_TN];
            gm_ig_load4(&As[cur][kk][ty * 4], fa);
            gm_ig_load4(&Bs[cur][kk][tx * 4], fb);
            gm_ig_load4(&Bs[cur][kk][64 + tx * 4], fb + 4);
#pragma unroll
            for (int i = 0; i < GM_IG_TM; ++i)
#pragma unroll
                for (int j = 0; j < GM_IG_TN; ++j) acc[i][j] += fa[i] * fb[j];
        }
        if (more) {  // the other stage: all reads of it ended at the previous barrier
#pragma unroll
            for (int j = 0; j < PA; ++j) As[cur ^ 1][a_k + j][a_row] = ra[j];
#pragma unroll
            for (int j = 0; j < PB; ++j) Bs[cur ^ 1][b_k + BROWS * j][b_col] = rb[j];
        }
        __syncthreads();
    }

#pragma unroll
    for (int j = 0; j < GM_IG_TN; ++j) {
        const int q = p0 + tx * 4 + j % 4 + 64 * (j / 4);
        if (q >= NP) continue;
        const int qn = q / P;
        const gm_index_t base = (gm_index_t)qn * g.K * P + (q - qn * P);
#pragma unroll
        for (int i = 0; i < GM_IG_TM; ++i) {
            const int m = m0 + ty * 4 + i;
            if (m >= Kg) continue;
            const int k = grp * Kg + m;
            out[base + (gm_index_t)k * P] = acc[i][j] + (has_bias ? bias[k] : T(0));
        }
    }
}

extern "C" __global__ void __launch_bounds__(GM_CONV_THREADS, 1)
    gm_conv_igemm_f32(const float* __restrict__ x, const float* __restrict__ w,
                      const int4* __restrict__ taps, const float* __restrict__ bias,
                      int has_bias, float* __restrict__ out, GM_CONV_PARAMS) {
    gm_conv_igemm_body<float, 16>(x, w, taps, bias, has_bias, out, GmConvGeom GM_CONV_ARGS);
}

extern "C" __global__ void __launch_bounds__(GM_CONV_THREADS, 1)
    gm_conv_igemm_f64(const double* __restrict__ x, const double* __restrict__ w,
                      const int4* __restrict__ taps, const double* __restrict__ bias,
                      int has_bias, double* __restrict__ out, GM_CONV_PARAMS) {
    gm_conv_igemm_body<double, 8>(x, w, taps, bias, has_bias, out, GmConvGeom GM_CONV_ARGS);
}
