// Tiled GEMM: C = A @ B for row-major, C-contiguous A (M, K), B (K, N), C (M, N), batched
// (gm_matmul_*), and the fused linear layer Y = activation(X @ W.T + bias) (gm_linear_*),
// which reads the (N, K) weight along K like A and applies the epilogue before the store.
//
// One block of 256 threads computes a BM x BN tile of C, walking K in steps of BK:
//   * global -> registers: each thread fetches V-wide vectors of A and of B per step
//     (float4 / double2 when the rows are 16-byte aligned, else V scalar loads), guarded at
//     the ragged edges with zero fill, so any M, N, K (including 1 and 0) is correct;
//   * registers -> shared: A is stored transposed (As[k][m]) so the compute loop reads both
//     operands as contiguous vectors along M and N; A rows (and the weight's, stored the
//     same way) are padded by PAD elements so the transposed stores of one warp fall in
//     distinct banks;
//   * two shared-memory stages: the next K step is fetched from global memory while the
//     current one is multiplied, so there is one __syncthreads per K step;
//   * warp tiling: a warp owns a WM x WN sub-tile and each lane a 2 x 2 grid of V x V
//     register blocks in it, so a warp's shared reads are 4 (A) and 8 (B) distinct vectors
//     -- broadcasts and contiguous 128-byte rows, no bank conflicts.
// float32: 128 x 128 x 8 tile, 8 x 8 outputs per thread. float64: 64 x 64 x 8, 4 x 4.
// No tensor cores: float32 results are true fp32 FMA sums (no TF32).
//
// Launch: grid (tiles_m * tiles_n, 1, batch), block (256), batch <= 65535 (the caller splits
// larger batches). blockIdx.x is mapped to tiles in groups of GM_MM_GROUP_M tile rows, so
// blocks resident together share panels of A and B in L2. blockIdx.z is the matrix of the
// batch; a batch stride of 0 broadcasts that operand. Offsets are 64-bit; M, N, K and
// tiles_m * tiles_n must each be < 2**31. No batch loop in the kernel: keeping the batch
// index live across the K loop costs registers the K loop needs.
//
// Only standard CUDA C++ (no inline PTX, no cp.async, static shared memory): the emulation
// lane compiles this file unchanged with a host compiler.
#include "common.cuh"
#include "gemm_tiles.cuh"

// Tuning knobs, overridable with -D at compile time; benchmarks/tune_matmul.py measures
// the alternatives. MIN_BLOCKS is the float32 kernel's __launch_bounds__ occupancy target
// (2 caps it at 128 registers, and then full unrolling spills); UNROLL_K the unroll factor
// of the inner K loop. On an H100 (2026-11-26, benchmarks/results/tune_matmul-h100*.json)
// a 16-deep tile with the K loop fully unrolled (min_blocks 1) was fastest: 0.80-0.83x
// cuBLAS at 2048-8192 and ragged sizes, against 0.72-0.75x for depth 8 unrolled 8 and
// 0.66-0.74x for min_blocks 2 (which caps registers at 128). GROUP_M is the
// number of tile rows a group of consecutive blocks sweeps (L2 reuse, see gm_grouped_tile
// in common.cuh); BK_F32 the float32 tile depth (8 or 16: 16 halves the barriers per FLOP,
// costs 16 KiB more shared memory and two vectors of A and B per thread per step).
#ifndef GM_MM_GROUP_M
#define GM_MM_GROUP_M 8
#endif
#ifndef GM_MM_MIN_BLOCKS
#define GM_MM_MIN_BLOCKS 1
#endif
#ifndef GM_MM_UNROLL_K
#define GM_MM_UNROLL_K 16
#endif
#ifndef GM_MM_BK_F32
#define GM_MM_BK_F32 16
#endif
constexpr int gm_mm_unroll_k = GM_MM_UNROLL_K;  // `#pragma unroll` takes no macros

// Epilogue of gm_linear: activation codes shared with gpumath/ops/linear.py (_ACTIVATIONS).
#define GM_ACT_NONE 0
#define GM_ACT_RELU 1
#define GM_ACT_GELU 2
#define GM_ACT_SIGMOID 3
#define GM_ACT_TANH 4

__device__ __forceinline__ float gm_mm_erfc(float v) { return erfcf(v); }
__device__ __forceinline__ double gm_mm_erfc(double v) { return erfc(v); }
__device__ __forceinline__ float gm_mm_exp(float v) { return expf(v); }
__device__ __forceinline__ double gm_mm_exp(double v) { return exp(v); }
__device__ __forceinline__ float gm_mm_tanh(float v) { return tanhf(v); }
__device__ __forceinline__ double gm_mm_tanh(double v) { return tanh(v); }

// activation(v). The branch is uniform across the grid, so it costs no divergence.
// gelu is the exact form 0.5 v (1 + erf(v / sqrt 2)), written with erfc(-v / sqrt 2) =
// 1 + erf(v / sqrt 2), which keeps full relative accuracy for negative v. relu keeps NaN.
template <typename T>
__device__ __forceinline__ T gm_mm_activate(T v, int activation) {
    switch (activation) {
        case GM_ACT_RELU:
            return v < T(0) ? T(0) : v;
        case GM_ACT_GELU:
            return T(0.5) * v * gm_mm_erfc(v * T(-0.70710678118654752440));
        case GM_ACT_SIGMOID:
            return T(1) / (T(1) + gm_mm_exp(-v));
        case GM_ACT_TANH:
            return gm_mm_tanh(v);
        default:
            return v;
    }
}

// C = A @ B (TRANS_B false: B is (K, N) row-major) or C = A @ B.T (TRANS_B true: B is an
// (N, K) row-major weight, read along K like A). EPILOGUE adds bias[col] (when has_bias) and
// applies `activation` before the store; without it the kernel is a plain GEMM.
template <typename T, int BM, int BN, int BK, int V, int PAD, bool TRANS_B, bool EPILOGUE>
__device__ __forceinline__ void gm_matmul_body(const T* __restrict__ A, const T* __restrict__ B,
                                               const T* __restrict__ bias, T* __restrict__ C,
                                               int M, int N, int K, gm_index_t stride_a,
                                               gm_index_t stride_b, gm_index_t stride_c,
                                               int has_bias, int activation) {
    // Lane layout in a warp (LM x LN lanes), register blocks per lane (SUB x SUB, each V x V).
    constexpr int LM = 4, LN = 8, SUB = 2;
    constexpr int TM = SUB * V, TN = SUB * V;            // outputs per thread
    constexpr int WM = SUB * LM * V, WN = SUB * LN * V;  // outputs per warp
    constexpr int WARPS_N = BN / WN;
    constexpr int LOADS = BM * BK / (GM_MM_THREADS * V);  // A (and B) vectors per thread per step
    static_assert((BM / WM) * WARPS_N * 32 == GM_MM_THREADS, "warp grid must cover the tile");
    static_assert(BM == BN, "A and B tiles take the same number of vectors");
    static_assert(LOADS >= 1 && LOADS * GM_MM_THREADS * V == BM * BK, "whole vectors per thread");
    constexpr int BPAD = TRANS_B ? PAD : 0;  // B stored transposed too: pad its rows like A's

    __shared__ __align__(16) T As[2][BK][BM + PAD];
    __shared__ __align__(16) T Bs[2][BK][BN + BPAD];

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int row0 = (warp / WARPS_N) * WM + (lane / LN) * V;  // first C row of this thread
    const int col0 = (warp % WARPS_N) * WN + (lane % LN) * V;  // first C column

    const int tiles_m = (M + BM - 1) / BM, tiles_n = (N + BN - 1) / BN;
    int tile_m, tile_n;
    gm_grouped_tile(blockIdx.x, tiles_m, tiles_n, GM_MM_GROUP_M, tile_m, tile_n);
    const int m0 = tile_m * BM, n0 = tile_n * BN;
    const int k_steps = (K + BK - 1) / BK;
    const bool a_vec = gm_mm_vec_ok<V>(A, K, stride_a);
    const bool b_vec = TRANS_B ? gm_mm_vec_ok<V>(B, K, stride_b) : gm_mm_vec_ok<V>(B, N, stride_b);
    const bool c_vec = gm_mm_vec_ok<V>(C, N, stride_c);

    const gm_index_t z = blockIdx.z;  // one matrix of the batch per grid z
    const T* __restrict__ a = A + z * stride_a;
    const T* __restrict__ b = B + z * stride_b;
    T* __restrict__ c = C + z * stride_c;

    T acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

    T ra[LOADS][V], rb[LOADS][V];
    gm_mm_fetch_k_major<T, BK, V, LOADS>(a, m0, M, 0, K, a_vec, ra);
    if constexpr (TRANS_B) {
        gm_mm_fetch_k_major<T, BK, V, LOADS>(b, n0, N, 0, K, b_vec, rb);
    } else {
        gm_mm_fetch_n_major<T, BN, V, LOADS>(b + n0, n0, N, 0, K, b_vec, rb);
    }
    gm_mm_stage_k_major<T, BK, V, LOADS>(As[0], ra);
    if constexpr (TRANS_B) {
        gm_mm_stage_k_major<T, BK, V, LOADS>(Bs[0], rb);
    } else {
        gm_mm_stage_n_major<T, BN, V, LOADS>(Bs[0], rb);
    }
    __syncthreads();

    for (int step = 0; step < k_steps; ++step) {
        const int cur = step & 1;
        const bool more = step + 1 < k_steps;
        if (more) {  // in flight while this step is multiplied
            const int k1 = (step + 1) * BK;
            gm_mm_fetch_k_major<T, BK, V, LOADS>(a, m0, M, k1, K, a_vec, ra);
            if constexpr (TRANS_B) {
                gm_mm_fetch_k_major<T, BK, V, LOADS>(b, n0, N, k1, K, b_vec, rb);
            } else {
                gm_mm_fetch_n_major<T, BN, V, LOADS>(b + (gm_index_t)k1 * N + n0, n0, N, k1, K,
                                                     b_vec, rb);
            }
        }
#pragma unroll gm_mm_unroll_k
        for (int kk = 0; kk < BK; ++kk) {
            T fa[TM], fb[TN];
#pragma unroll
            for (int s = 0; s < SUB; ++s) {
                gm_mm_load_vec(&As[cur][kk][row0 + s * LM * V], &fa[s * V]);
                gm_mm_load_vec(&Bs[cur][kk][col0 + s * LN * V], &fb[s * V]);
            }
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += fa[i] * fb[j];
        }
        if (more) {  // the other stage: every thread finished reading it before the
                     // barrier that ended the previous step
            gm_mm_stage_k_major<T, BK, V, LOADS>(As[cur ^ 1], ra);
            if constexpr (TRANS_B) {
                gm_mm_stage_k_major<T, BK, V, LOADS>(Bs[cur ^ 1], rb);
            } else {
                gm_mm_stage_n_major<T, BN, V, LOADS>(Bs[cur ^ 1], rb);
            }
        }
        __syncthreads();
    }

    T bias_v[TN];  // this thread's columns of the bias, read once
#pragma unroll
    for (int j = 0; j < TN; ++j) {
        const int col = n0 + col0 + (j / V) * LN * V + j % V;
        bias_v[j] = (EPILOGUE && has_bias && col < N) ? bias[col] : T(0);
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int row = m0 + row0 + (i / V) * LM * V + i % V;
        if (row >= M) continue;
#pragma unroll
        for (int s = 0; s < SUB; ++s) {
            const int col = n0 + col0 + s * LN * V;
            T* dst = c + (gm_index_t)row * N + col;
            T val[V];
#pragma unroll
            for (int j = 0; j < V; ++j) {
                val[j] = acc[i][s * V + j];
                if constexpr (EPILOGUE) {
                    if (has_bias) val[j] += bias_v[s * V + j];
                    val[j] = gm_mm_activate(val[j], activation);
                }
            }
            if (c_vec) {
                if (col < N) gm_mm_store_vec(dst, val);
            } else {
#pragma unroll
                for (int j = 0; j < V; ++j)
                    if (col + j < N) dst[j] = val[j];
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(GM_MM_THREADS, GM_MM_MIN_BLOCKS)
    gm_matmul_f32(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                  int M, int N, int K, gm_index_t stride_a, gm_index_t stride_b, gm_index_t stride_c) {
    gm_matmul_body<float, 128, 128, GM_MM_BK_F32, 4, 4, false, false>(
        A, B, nullptr, C, M, N, K, stride_a, stride_b, stride_c, 0, GM_ACT_NONE);
}

extern "C" __global__ void __launch_bounds__(GM_MM_THREADS, 2)
    gm_matmul_f64(const double* __restrict__ A, const double* __restrict__ B,
                  double* __restrict__ C, int M, int N, int K, gm_index_t stride_a,
                  gm_index_t stride_b, gm_index_t stride_c) {
    gm_matmul_body<double, 64, 64, 8, 2, 2, false, false>(
        A, B, nullptr, C, M, N, K, stride_a, stride_b, stride_c, 0, GM_ACT_NONE);
}

// Y = activation(X @ W.T + bias) for X (M, K), W (N, K), bias (N) (read only when has_bias;
// pass any valid pointer otherwise), Y (M, N), all C-contiguous: torch.nn.functional.linear.
// Launch: grid (tiles_m * tiles_n), block (256), tiles as for gm_matmul of the same dtype.
extern "C" __global__ void __launch_bounds__(GM_MM_THREADS, GM_MM_MIN_BLOCKS)
    gm_linear_f32(const float* __restrict__ X, const float* __restrict__ W,
                  const float* __restrict__ bias, float* __restrict__ Y, int M, int N, int K,
                  int has_bias, int activation) {
    gm_matmul_body<float, 128, 128, GM_MM_BK_F32, 4, 4, true, true>(X, W, bias, Y, M, N, K, 0, 0,
                                                                     0, has_bias, activation);
}

extern "C" __global__ void __launch_bounds__(GM_MM_THREADS, 2)
    gm_linear_f64(const double* __restrict__ X, const double* __restrict__ W,
                  const double* __restrict__ bias, double* __restrict__ Y, int M, int N, int K,
                  int has_bias, int activation) {
    gm_matmul_body<double, 64, 64, 8, 2, 2, true, true>(X, W, bias, Y, M, N, K, 0, 0, 0,
                                                         has_bias, activation);
}
