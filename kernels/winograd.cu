// Winograd convolution F(m x m, 3 x 3), m = 2 or 4, alpha = m + 2: the three transforms of
// gpumath/ops/_conv_winograd_cuda.py around one batched GEMM (cupy.matmul, cuBLAS):
//
//   U[e, k, c] = (G g G^T)[e]  for weight g = w[k, c] (K, C/G, 3, 3)     gm_winograd_weight_*
//   V[e, c, p] = (B^T d B)[e]  for the alpha x alpha input tile d of p    gm_winograd_input_*
//   M[e, k, p] = sum_c U[e, k, c] V[e, c, p]  per group                   (cupy.matmul)
//   out tile p of channel k = A^T M[., k, p] A (+ bias[k])                gm_winograd_output_*
//
// e = a * alpha + b runs over the alpha^2 transform points; p = (n, ty, tx) over the
// P = N * tiles_h * tiles_w tiles, tile (ty, tx) covering output rows ty * m to ty * m + m - 1
// and columns tx * m to tx * m + m - 1. With G groups, U is (alpha^2, G, K/G, C/G) and V
// (alpha^2, G, C/G, P): the GEMM of each point and group is a plain row-major matmul, with no
// transposes or copies.
//
// The input tile of p starts at input row ty * m - pad_top and column tx * m - pad_left; rows
// and columns outside [0, H) x [0, W) read zero (the padding, applied by index: no padded
// copy; negative padding, i.e. cropping, works too). The output transform clips the ragged
// last tiles (OH, OW not multiples of m). The transform matrices are those of _MATRICES in
// gpumath/ops/_conv_winograd.py, written out as straight-line code so that each tile stays in
// registers; their zero entries cost nothing, so a NaN or Inf in the input reaches fewer
// outputs of the tiles that read it than in the array code (which multiplies 0 * NaN).
//
// Each kernel is a grid-stride loop over its work items, one per thread at a time:
// (k, c) for the weight, (c, p) for the input, (k, p) for the output transform. Consecutive
// threads take consecutive c (weight) or p (input, output), so each of the alpha^2 planes of
// U, V and M is read or written in coalesced runs; the overlapping input tiles of
// neighbouring threads are served from L1. Any 1-D grid and block (<= 256 threads) works.
// Extents are int (each below 2**31), products and offsets 64-bit (gm_index_t).
#include "common.cuh"

#define GM_WG_THREADS 256

// ------------------------------------------------------------------ 1-D transforms
// y = Mat x for one line of a tile: x and y are strided views (stride S) of local arrays.
// After inlining, every index is a constant and the arrays live in registers.

template <int M>
struct GmWinograd;

template <>
struct GmWinograd<2> {
    // y = B^T x, B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    template <typename T, int SX, int SY>
    static __device__ __forceinline__ void bt(const T* x, T* y) {
        y[0 * SY] = x[0 * SX] - x[2 * SX];
        y[1 * SY] = x[1 * SX] + x[2 * SX];
        y[2 * SY] = x[2 * SX] - x[1 * SX];
        y[3 * SY] = x[1 * SX] - x[3 * SX];
    }
    // y = G x, G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    template <typename T, int SX, int SY>
    static __device__ __forceinline__ void g(const T* x, T* y) {
        const T h = T(0.5);
        y[0 * SY] = x[0 * SX];
        y[1 * SY] = h * (x[0 * SX] + x[1 * SX] + x[2 * SX]);
        y[2 * SY] = h * (x[0 * SX] - x[1 * SX] + x[2 * SX]);
        y[3 * SY] = x[2 * SX];
    }
    // y = A^T x, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]
    template <typename T, int SX, int SY>
    static __device__ __forceinline__ void at(const T* x, T* y) {
        y[0 * SY] = x[0 * SX] + x[1 * SX] + x[2 * SX];
        y[1 * SY] = x[1 * SX] - x[2 * SX] - x[3 * SX];
    }
};

template <>
struct GmWinograd<4> {
    // y = B^T x, B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
    //                   [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
    template <typename T, int SX, int SY>
    static __device__ __forceinline__ void bt(const T* x, T* y) {
        const T x0 = x[0 * SX], x1 = x[1 * SX], x2 = x[2 * SX];
        const T x3 = x[3 * SX], x4 = x[4 * SX], x5 = x[5 * SX];
        y[0 * SY] = T(4) * x0 - T(5) * x2 + x4;
        y[1 * SY] = -T(4) * x1 - T(4) * x2 + x3 + x4;
        y[2 * SY] = T(4) * x1 - T(4) * x2 - x3 + x4;
        y[3 * SY] = -T(2) * x1 - x2 + T(2) * x3 + x4;
        y[4 * SY] = T(2) * x1 - x2 - T(2) * x3 + x4;
        y[5 * SY] = T(4) * x1 - T(5) * x3 + x5;
    }
    // y = G x, G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6],
    //               [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]
    template <typename T, int SX, int SY>
    static __device__ __forceinline__ void g(const T* x, T* y) {
        const T x0 = x[0 * SX], x1 = x[1 * SX], x2 = x[2 * SX];
        const T sixth = T(1) / T(6), twelfth = T(1) / T(12), twentyfourth = T(1) / T(24);
        y[0 * SY] = T(0.25) * x0;
        y[1 * SY] = -sixth * (x0 + x1 + x2);
        y[2 * SY] = -sixth * (x0 - x1 + x2);
        y[3 * SY] = twentyfourth * x0 + twelfth * x1 + sixth * x2;
        y[4 * SY] = twentyfourth * x0 - twelfth * x1 + sixth * x2;
        y[5 * SY] = x2;
    }
    // y = A^T x, A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
    //                   [0, 1, -1, 8, -8, 1]]
    template <typename T, int SX, int SY>
    static __device__ __forceinline__ void at(const T* x, T* y) {
        const T s12 = x[1 * SX] + x[2 * SX], d12 = x[1 * SX] - x[2 * SX];
        const T s34 = x[3 * SX] + x[4 * SX], d34 = x[3 * SX] - x[4 * SX];
        y[0 * SY] = x[0 * SX] + s12 + s34;
        y[1 * SY] = d12 + T(2) * d34;
        y[2 * SY] = s12 + T(4) * s34;
        y[3 * SY] = d12 + T(8) * d34 + x[5 * SX];
    }
};

// ------------------------------------------------------------------ weight transform
// U[e, k, c] = (G w[k, c] G^T)[e] for the K * (C/G) filters (KC = K * (C/G)).

template <typename T, int M>
__device__ __forceinline__ void gm_winograd_weight_body(const T* __restrict__ w,
                                                        T* __restrict__ u, gm_index_t KC) {
    constexpr int A = M + 2;
    for (gm_index_t t = gm_global_thread_index(); t < KC; t += gm_grid_stride()) {
        T f[9], r[A * 3], y[A * A];
#pragma unroll
        for (int i = 0; i < 9; ++i) f[i] = w[t * 9 + i];
#pragma unroll
        for (int j = 0; j < 3; ++j) GmWinograd<M>::template g<T, 3, 3>(f + j, r + j);  // G g
#pragma unroll
        for (int a = 0; a < A; ++a) GmWinograd<M>::template g<T, 1, 1>(r + 3 * a, y + A * a);
#pragma unroll
        for (int e = 0; e < A * A; ++e) u[e * KC + t] = y[e];
    }
}

// ------------------------------------------------------------------ input transform
// V[e, c, p] = (B^T d B)[e] for the input tile d of tile p in channel c.

template <typename T, int M>
__device__ __forceinline__ void gm_winograd_input_body(const T* __restrict__ x,
                                                       T* __restrict__ v, int N, int C, int H,
                                                       int W, int pad_top, int pad_left,
                                                       int tiles_h, int tiles_w) {
    constexpr int A = M + 2;
    const gm_index_t tiles = (gm_index_t)tiles_h * tiles_w;
    const gm_index_t P = (gm_index_t)N * tiles;
    const gm_index_t total = (gm_index_t)C * P;  // also the stride between planes e of V
    const gm_index_t plane = (gm_index_t)H * W;
    for (gm_index_t t = gm_global_thread_index(); t < total; t += gm_grid_stride()) {
        const gm_index_t c = t / P;
        const gm_index_t p = t - c * P;
        const gm_index_t n = p / tiles;
        const gm_index_t q = p - n * tiles;
        const int ty = (int)(q / tiles_w), tx = (int)(q - (gm_index_t)ty * tiles_w);
        const int h0 = ty * M - pad_top, w0 = tx * M - pad_left;
        const T* xc = x + (n * C + c) * plane;
        T r[A * A], y[A * A];
#pragma unroll
        for (int i = 0; i < A; ++i) {  // load row i of the tile, then transform it: d B
            const int h = h0 + i;
            const bool row_ok = h >= 0 && h < H;
            T d[A];
#pragma unroll
            for (int j = 0; j < A; ++j) {
                const int col = w0 + j;
                d[j] = (row_ok && col >= 0 && col < W) ? xc[(gm_index_t)h * W + col] : T(0);
            }
            GmWinograd<M>::template bt<T, 1, 1>(d, r + A * i);
        }
#pragma unroll
        for (int b = 0; b < A; ++b) GmWinograd<M>::template bt<T, A, A>(r + b, y + b);  // B^T .
#pragma unroll
        for (int e = 0; e < A * A; ++e) v[e * total + t] = y[e];
    }
}

// ------------------------------------------------------------------ output transform
// out[n, k, ty * m + i, tx * m + j] = (A^T M[., k, p] A)[i, j] + bias[k], clipped to OH x OW.

template <typename T, int M>
__device__ __forceinline__ void gm_winograd_output_body(const T* __restrict__ mm,
                                                        const T* __restrict__ bias,
                                                        int has_bias, T* __restrict__ out,
                                                        int N, int K, int OH, int OW,
                                                        int tiles_h, int tiles_w) {
    constexpr int A = M + 2;
    const gm_index_t tiles = (gm_index_t)tiles_h * tiles_w;
    const gm_index_t P = (gm_index_t)N * tiles;
    const gm_index_t total = (gm_index_t)K * P;  // also the stride between planes e of M
    const gm_index_t plane = (gm_index_t)OH * OW;
    for (gm_index_t t = gm_global_thread_index(); t < total; t += gm_grid_stride()) {
        const gm_index_t k = t / P;
        const gm_index_t p = t - k * P;
        const gm_index_t n = p / tiles;
        const gm_index_t q = p - n * tiles;
        const int ty = (int)(q / tiles_w), tx = (int)(q - (gm_index_t)ty * tiles_w);
        T r[A * M], y[M * M];
#pragma unroll
        for (int a = 0; a < A; ++a) {  // row a of the transformed tile, times A
            T s[A];
#pragma unroll
            for (int b = 0; b < A; ++b) s[b] = mm[(a * A + b) * total + t];
            GmWinograd<M>::template at<T, 1, 1>(s, r + M * a);
        }
#pragma unroll
        for (int j = 0; j < M; ++j) GmWinograd<M>::template at<T, M, M>(r + j, y + j);  // A^T .
        const T add = has_bias ? bias[k] : T(0);
        T* ok = out + (n * K + k) * plane;
        const int oh0 = ty * M, ow0 = tx * M;
#pragma unroll
        for (int i = 0; i < M; ++i) {
#pragma unroll
            for (int j = 0; j < M; ++j) {
                if (oh0 + i < OH && ow0 + j < OW)
                    ok[(gm_index_t)(oh0 + i) * OW + ow0 + j] = y[M * i + j] + add;
            }
        }
    }
}

// ------------------------------------------------------------------ entry points

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_weight_m2_f32(const float* __restrict__ w, float* __restrict__ u, long long KC) {
    gm_winograd_weight_body<float, 2>(w, u, KC);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_weight_m2_f64(const double* __restrict__ w, double* __restrict__ u, long long KC) {
    gm_winograd_weight_body<double, 2>(w, u, KC);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_weight_m4_f32(const float* __restrict__ w, float* __restrict__ u, long long KC) {
    gm_winograd_weight_body<float, 4>(w, u, KC);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_weight_m4_f64(const double* __restrict__ w, double* __restrict__ u, long long KC) {
    gm_winograd_weight_body<double, 4>(w, u, KC);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_input_m2_f32(const float* __restrict__ x, float* __restrict__ v, int N, int C,
                             int H, int W, int pad_top, int pad_left, int tiles_h, int tiles_w) {
    gm_winograd_input_body<float, 2>(x, v, N, C, H, W, pad_top, pad_left, tiles_h, tiles_w);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_input_m2_f64(const double* __restrict__ x, double* __restrict__ v, int N, int C,
                             int H, int W, int pad_top, int pad_left, int tiles_h, int tiles_w) {
    gm_winograd_input_body<double, 2>(x, v, N, C, H, W, pad_top, pad_left, tiles_h, tiles_w);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_input_m4_f32(const float* __restrict__ x, float* __restrict__ v, int N, int C,
                             int H, int W, int pad_top, int pad_left, int tiles_h, int tiles_w) {
    gm_winograd_input_body<float, 4>(x, v, N, C, H, W, pad_top, pad_left, tiles_h, tiles_w);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_input_m4_f64(const double* __restrict__ x, double* __restrict__ v, int N, int C,
                             int H, int W, int pad_top, int pad_left, int tiles_h, int tiles_w) {
    gm_winograd_input_body<double, 4>(x, v, N, C, H, W, pad_top, pad_left, tiles_h, tiles_w);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_output_m2_f32(const float* __restrict__ mm, const float* __restrict__ bias,
                              int has_bias, float* __restrict__ out, int N, int K, int OH,
                              int OW, int tiles_h, int tiles_w) {
    gm_winograd_output_body<float, 2>(mm, bias, has_bias, out, N, K, OH, OW, tiles_h, tiles_w);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_output_m2_f64(const double* __restrict__ mm, const double* __restrict__ bias,
                              int has_bias, double* __restrict__ out, int N, int K, int OH,
                              int OW, int tiles_h, int tiles_w) {
    gm_winograd_output_body<double, 2>(mm, bias, has_bias, out, N, K, OH, OW, tiles_h, tiles_w);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_output_m4_f32(const float* __restrict__ mm, const float* __restrict__ bias,
                              int has_bias, float* __restrict__ out, int N, int K, int OH,
                              int OW, int tiles_h, int tiles_w) {
    gm_winograd_output_body<float, 4>(mm, bias, has_bias, out, N, K, OH, OW, tiles_h, tiles_w);
}

extern "C" __global__ void __launch_bounds__(GM_WG_THREADS)
    gm_winograd_output_m4_f64(const double* __restrict__ mm, const double* __restrict__ bias,
                              int has_bias, double* __restrict__ out, int N, int K, int OH,
                              int OW, int tiles_h, int tiles_w) {
    gm_winograd_output_body<double, 4>(mm, bias, has_bias, out, N, K, OH, OW, tiles_h, tiles_w);
}
