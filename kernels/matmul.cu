// Tiled GEMM: C = A @ B for row-major, C-contiguous A (M, K), B (K, N), C (M, N), batched.
//
// One block of 256 threads computes a BM x BN tile of C, walking K in steps of BK:
//   * global -> registers: each thread fetches one V-wide vector of A and one of B per step
//     (float4 / double2 when the rows are 16-byte aligned, else V scalar loads), guarded at
//     the ragged edges with zero fill, so any M, N, K (including 1 and 0) is correct;
//   * registers -> shared: A is stored transposed (As[k][m]) so the compute loop reads both
//     operands as contiguous vectors along M and N; A rows are padded by APAD elements so
//     the transposed stores of one warp fall in distinct banks;
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

#define GM_MM_THREADS 256
#define GM_MM_GROUP_M 8

// Tuning knobs, overridable with -D at compile time; benchmarks/tune_matmul.py measures
// the alternatives. MIN_BLOCKS is the float32 kernel's __launch_bounds__ occupancy target
// (2 caps it at 128 registers, and then full unrolling spills); UNROLL_K the unroll factor
// of the inner K loop. On an H100 (2026-11-26) min_blocks 1 with the K loop fully unrolled
// (149 registers) was fastest: 0.76-0.79x cuBLAS at 2048-8192, against 0.73-0.77x for
// min_blocks 2 with unroll 2 (benchmarks/results/tune_matmul-h100.json).
#ifndef GM_MM_MIN_BLOCKS
#define GM_MM_MIN_BLOCKS 1
#endif
#ifndef GM_MM_UNROLL_K
#define GM_MM_UNROLL_K 8
#endif
constexpr int gm_mm_unroll_k = GM_MM_UNROLL_K;  // `#pragma unroll` takes no macros

// Vector loads and stores of V consecutive elements at a (V * sizeof(T))-aligned address.
__device__ __forceinline__ void gm_mm_load_vec(const float* p, float* r) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    r[0] = v.x;
    r[1] = v.y;
    r[2] = v.z;
    r[3] = v.w;
}

__device__ __forceinline__ void gm_mm_load_vec(const double* p, double* r) {
    const double2 v = *reinterpret_cast<const double2*>(p);
    r[0] = v.x;
    r[1] = v.y;
}

__device__ __forceinline__ void gm_mm_store_vec(float* p, const float* r) {
    *reinterpret_cast<float4*>(p) = make_float4(r[0], r[1], r[2], r[3]);
}

__device__ __forceinline__ void gm_mm_store_vec(double* p, const double* r) {
    *reinterpret_cast<double2*>(p) = make_double2(r[0], r[1]);
}

// True when p + V * k (any k) is a valid vector address: a 16-byte aligned base, and a row
// length and batch stride that keep every row start on a vector boundary.
template <int V, typename T>
__device__ __forceinline__ bool gm_mm_vec_ok(const T* p, int row_len, gm_index_t stride) {
    return (reinterpret_cast<unsigned long long>(p) % (V * sizeof(T))) == 0 && row_len % V == 0 &&
           stride % V == 0;
}

// Fetch V elements at src into r, zero outside the matrix. `row_ok`: the row (of A) or the
// K index (of B) is inside; `col` and `cols`: the first column and the row length. `vec`:
// cols % V == 0 and src aligned, so a vector is either wholly inside or wholly outside.
template <int V, typename T>
__device__ __forceinline__ void gm_mm_fetch(const T* __restrict__ src, bool row_ok, int col,
                                            int cols, bool vec, T (&r)[V]) {
    if (vec) {
        if (row_ok && col < cols) {
            gm_mm_load_vec(src, r);
        } else {
#pragma unroll
            for (int j = 0; j < V; ++j) r[j] = T(0);
        }
    } else {
#pragma unroll
        for (int j = 0; j < V; ++j) r[j] = (row_ok && col + j < cols) ? src[j] : T(0);
    }
}

// Which (tile_m, tile_n) this block computes: consecutive blocks sweep GROUP_M tile rows
// column by column, so the A and B panels they read stay in L2 between them.
__device__ __forceinline__ void gm_mm_tile_of_block(int tiles_m, int tiles_n, int& tile_m,
                                                    int& tile_n) {
    const int pid = blockIdx.x;
    const int per_group = GM_MM_GROUP_M * tiles_n;
    const int first_m = (pid / per_group) * GM_MM_GROUP_M;
    const int rows_here = min(tiles_m - first_m, GM_MM_GROUP_M);
    const int in_group = pid % per_group;
    tile_m = first_m + in_group % rows_here;
    tile_n = in_group / rows_here;
}

template <typename T, int BM, int BN, int BK, int V, int APAD>
__device__ __forceinline__ void gm_matmul_body(const T* __restrict__ A, const T* __restrict__ B,
                                               T* __restrict__ C, int M, int N, int K,
                                               gm_index_t stride_a, gm_index_t stride_b,
                                               gm_index_t stride_c) {
    // Lane layout in a warp (LM x LN lanes), register blocks per lane (SUB x SUB, each V x V).
    constexpr int LM = 4, LN = 8, SUB = 2;
    constexpr int TM = SUB * V, TN = SUB * V;            // outputs per thread
    constexpr int WM = SUB * LM * V, WN = SUB * LN * V;  // outputs per warp
    constexpr int WARPS_N = BN / WN;
    static_assert((BM / WM) * WARPS_N * 32 == GM_MM_THREADS, "warp grid must cover the tile");
    static_assert(BM * BK == GM_MM_THREADS * V, "one A vector per thread per K step");
    static_assert(BK * BN == GM_MM_THREADS * V, "one B vector per thread per K step");

    __shared__ __align__(16) T As[2][BK][BM + APAD];
    __shared__ __align__(16) T Bs[2][BK][BN];

    const int tid = threadIdx.x;
    const int warp = tid / 32, lane = tid % 32;
    const int row0 = (warp / WARPS_N) * WM + (lane / LN) * V;  // first C row of this thread
    const int col0 = (warp % WARPS_N) * WN + (lane % LN) * V;  // first C column
    const int a_row = tid / (BK / V), a_k = (tid % (BK / V)) * V;  // this thread's A vector
    const int b_k = tid / (BN / V), b_n = (tid % (BN / V)) * V;    // and B vector

    const int tiles_m = (M + BM - 1) / BM, tiles_n = (N + BN - 1) / BN;
    int tile_m, tile_n;
    gm_mm_tile_of_block(tiles_m, tiles_n, tile_m, tile_n);
    const int m0 = tile_m * BM, n0 = tile_n * BN;
    const int k_steps = (K + BK - 1) / BK;
    const bool a_vec = gm_mm_vec_ok<V>(A, K, stride_a);
    const bool b_vec = gm_mm_vec_ok<V>(B, N, stride_b);
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

    // Each thread walks one A row along K and one B column group down K.
    const T* a_src = a + (gm_index_t)min(m0 + a_row, M - 1) * K + a_k;
    const T* b_src = b + (gm_index_t)b_k * N + n0 + b_n;
    const bool a_row_ok = m0 + a_row < M;
    const int b_col = n0 + b_n;
    T ra[V], rb[V];
    gm_mm_fetch<V>(a_src, a_row_ok, a_k, K, a_vec, ra);
    gm_mm_fetch<V>(b_src, b_k < K, b_col, N, b_vec, rb);
#pragma unroll
    for (int j = 0; j < V; ++j) As[0][a_k + j][a_row] = ra[j];
    gm_mm_store_vec(&Bs[0][b_k][b_n], rb);
    __syncthreads();

    for (int step = 0; step < k_steps; ++step) {
        const int cur = step & 1;
        const bool more = step + 1 < k_steps;
        if (more) {  // in flight while this step is multiplied
            const int k1 = (step + 1) * BK;
            a_src += BK;
            b_src += (gm_index_t)BK * N;
            gm_mm_fetch<V>(a_src, a_row_ok, k1 + a_k, K, a_vec, ra);
            gm_mm_fetch<V>(b_src, k1 + b_k < K, b_col, N, b_vec, rb);
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
#pragma unroll
            for (int j = 0; j < V; ++j) As[cur ^ 1][a_k + j][a_row] = ra[j];
            gm_mm_store_vec(&Bs[cur ^ 1][b_k][b_n], rb);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int row = m0 + row0 + (i / V) * LM * V + i % V;
        if (row >= M) continue;
#pragma unroll
        for (int s = 0; s < SUB; ++s) {
            const int col = n0 + col0 + s * LN * V;
            T* dst = c + (gm_index_t)row * N + col;
            const T* val = &acc[i][s * V];
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
    gm_matmul_body<float, 128, 128, 8, 4, 4>(A, B, C, M, N, K, stride_a, stride_b, stride_c);
}

extern "C" __global__ void __launch_bounds__(GM_MM_THREADS, 2)
    gm_matmul_f64(const double* __restrict__ A, const double* __restrict__ B,
                  double* __restrict__ C, int M, int N, int K, gm_index_t stride_a,
                  gm_index_t stride_b, gm_index_t stride_c) {
    gm_matmul_body<double, 64, 64, 8, 2, 2>(A, B, C, M, N, K, stride_a, stride_b, stride_c);
}
