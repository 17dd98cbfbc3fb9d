// Float64 GEMM on FP64 tensor cores (DMMA, compute capability >= 8.0) through the CUDA WMMA
// API: C = A @ B for row-major, C-contiguous A (M, K), B (K, N), C (M, N), batched. Same
// arguments, batching and launch as gm_matmul_f64 in kernels/matmul.cu (which stays the
// float64 kernel below sm_80), so gpumath/ops/matmul.py swaps one for the other.
//
// One block of 256 threads (8 warps) computes a 128 x 64 tile of C, walking K in steps of 8:
//   * global -> registers, with the tile loaders of gemm_tiles.cuh: each thread fetches two
//     pairs of doubles of A and one of B per step (scalar loads when a row or the base is not
//     16-byte aligned), zero-filled outside the matrix, so any M, N, K is correct and the
//     tensor cores only ever see whole 8 x 4 tiles;
//   * registers -> shared: two stages, A as As[m][k] and B as Bs[k][n] (both row-major, as the
//     WMMA fragments read them). The next step is fetched while the current one is
//     multiplied: one __syncthreads per step;
//   * warps: a 4 x 2 grid, each warp owns a 32 x 32 sub-tile = 4 x 4 accumulator fragments of
//     8 x 8 (m8n8k4, double); per k-slice of 4 it loads 4 A and 4 B fragments for 16 DMMAs.
// WMMA rules: every load/store pointer is 32-byte aligned and every ldm a multiple of 2
// doubles (16 bytes). The shared rows are padded by 4 doubles (LDA = 12, LDB = 68): a
// fragment load reads 4 rows x 32 bytes per half-warp, and a row pitch of 32 mod 128 bytes
// (A: 96, B: 544) puts those 4 rows in distinct banks. Fragment origins are multiples of 8
// rows and 4 (A) or 8 (B) columns, so with 32-byte aligned arrays every pointer is aligned.
// Epilogue: a fragment wholly inside C is stored directly when the rules hold for C (every
// matrix of the batch 32-byte aligned, N even; checked at run time); an edge fragment, or any
// fragment of a C that breaks them, goes through a per-warp 8 x 8 shared scratch and is copied
// out with bounds checks.
//
// Launch: grid (tiles_m * tiles_n, 1, batch), block (256), tiles_m = ceil(M / 128),
// tiles_n = ceil(N / 64), batch <= 65535; blockIdx.x maps to tiles in groups of
// GM_DMMA_GROUP_M tile rows (L2 reuse). A batch stride of 0 broadcasts that operand.
// Offsets are 64-bit; M, N, K and the tile count must each be < 2**31.
//
// Below sm_80 there are no double WMMA fragments: the kernel compiles to an empty body there
// (the launcher never calls it on such a GPU), so the sm_70 compile check stays clean. The
// emulation lane compiles this file with tests/cuda_emu/include/mma.h, a host implementation
// of the double m8n8k4 WMMA API that checks the alignment and warp rules.
#include "common.cuh"
#include "gemm_tiles.cuh"

#include <mma.h>

#define GM_DMMA_THREADS GM_MM_THREADS  // the shared tile loaders' block size
#ifndef GM_DMMA_GROUP_M
#define GM_DMMA_GROUP_M 8
#endif

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800

namespace wmma = nvcuda::wmma;

constexpr int GM_DMMA_BM = 128, GM_DMMA_BN = 64, GM_DMMA_BK = 8;  // block tile of C, K step
constexpr int GM_DMMA_WM = 32, GM_DMMA_WN = 32;                   // warp tile
constexpr int GM_DMMA_FM = GM_DMMA_WM / 8, GM_DMMA_FN = GM_DMMA_WN / 8;  // fragments per warp
constexpr int GM_DMMA_WARPS_N = GM_DMMA_BN / GM_DMMA_WN;
constexpr int GM_DMMA_LDA = GM_DMMA_BK + 4, GM_DMMA_LDB = GM_DMMA_BN + 4;  // padded pitches
constexpr int GM_DMMA_A_VECS = GM_DMMA_BM * GM_DMMA_BK / (2 * GM_DMMA_THREADS);  // double2
constexpr int GM_DMMA_B_VECS = GM_DMMA_BK * GM_DMMA_BN / (2 * GM_DMMA_THREADS);
static_assert((GM_DMMA_BM / GM_DMMA_WM) * GM_DMMA_WARPS_N * 32 == GM_DMMA_THREADS,
              "the warp grid must cover the block tile");
static_assert(GM_DMMA_A_VECS * 2 * GM_DMMA_THREADS == GM_DMMA_BM * GM_DMMA_BK &&
                  GM_DMMA_B_VECS * 2 * GM_DMMA_THREADS == GM_DMMA_BK * GM_DMMA_BN,
              "whole double2 vectors per thread");
static_assert(GM_DMMA_LDA % 2 == 0 && GM_DMMA_LDB % 2 == 0, "WMMA ldm: a multiple of 16 bytes");
static_assert((GM_DMMA_LDA * 8) % 128 == 96 && (GM_DMMA_LDB * 8) % 128 == 32,
              "row pitches that spread a fragment's 4 rows over the 32 banks");

typedef wmma::fragment<wmma::matrix_a, 8, 8, 4, double, wmma::row_major> gm_dmma_frag_a;
typedef wmma::fragment<wmma::matrix_b, 8, 8, 4, double, wmma::row_major> gm_dmma_frag_b;
typedef wmma::fragment<wmma::accumulator, 8, 8, 4, double> gm_dmma_frag_c;

// One K step of the A tile (rows m0.., columns k0..) and the B tile (rows k0.., columns n0..):
// this thread's vectors into registers, then into the shared stage (both row-major, as the
// WMMA fragments read them).
__device__ __forceinline__ void gm_dmma_fetch(const double* __restrict__ a,
                                              const double* __restrict__ b, int m0, int n0,
                                              int k0, int M, int N, int K, bool a_vec,
                                              bool b_vec, double (&ra)[GM_DMMA_A_VECS][2],
                                              double (&rb)[GM_DMMA_B_VECS][2]) {
    gm_mm_fetch_k_major<double, GM_DMMA_BK, 2, GM_DMMA_A_VECS>(a, m0, M, k0, K, a_vec, ra);
    gm_mm_fetch_n_major<double, GM_DMMA_BN, 2, GM_DMMA_B_VECS>(b + (gm_index_t)k0 * N + n0, n0,
                                                               N, k0, K, b_vec, rb);
}

__device__ __forceinline__ void gm_dmma_stage(double (*As)[GM_DMMA_LDA],
                                              double (*Bs)[GM_DMMA_LDB],
                                              const double (&ra)[GM_DMMA_A_VECS][2],
                                              const double (&rb)[GM_DMMA_B_VECS][2]) {
    gm_mm_stage_n_major<double, GM_DMMA_BK, 2, GM_DMMA_A_VECS>(As, ra);  // As[m][k]: k-vectors
    gm_mm_stage_n_major<double, GM_DMMA_BN, 2, GM_DMMA_B_VECS>(Bs, rb);
}

__device__ __forceinline__ void gm_matmul_dmma_body(const double* __restrict__ A,
                                                    const double* __restrict__ B,
                                                    double* __restrict__ C, int M, int N, int K,
                                                    gm_index_t stride_a, gm_index_t stride_b,
                                                    gm_index_t stride_c) {
    __shared__ __align__(32) double As[2][GM_DMMA_BM][GM_DMMA_LDA];
    __shared__ __align__(32) double Bs[2][GM_DMMA_BK][GM_DMMA_LDB];
    __shared__ __align__(32) double Cs[GM_DMMA_THREADS / 32][8 * 8];  // edge-fragment scratch

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int wm0 = (warp / GM_DMMA_WARPS_N) * GM_DMMA_WM;  // warp tile origin in the block tile
    const int wn0 = (warp % GM_DMMA_WARPS_N) * GM_DMMA_WN;

    const int tiles_m = (M + GM_DMMA_BM - 1) / GM_DMMA_BM;
    const int tiles_n = (N + GM_DMMA_BN - 1) / GM_DMMA_BN;
    int tile_m, tile_n;
    gm_grouped_tile(blockIdx.x, tiles_m, tiles_n, GM_DMMA_GROUP_M, tile_m, tile_n);
    const int m0 = tile_m * GM_DMMA_BM, n0 = tile_n * GM_DMMA_BN;
    const int k_steps = (K + GM_DMMA_BK - 1) / GM_DMMA_BK;
    const bool a_vec = gm_mm_vec_ok<2>(A, K, stride_a);
    const bool b_vec = gm_mm_vec_ok<2>(B, N, stride_b);
    // Direct fragment stores need the WMMA rules on C: 32-byte aligned rows of every matrix
    // of the batch (fragment rows start at multiples of 8, so N even is enough) and ldm = N
    // a multiple of 2.
    const bool c_direct = gm_is_aligned(C, 32) && N % 2 == 0 && stride_c % 4 == 0;

    const gm_index_t z = blockIdx.z;  // one matrix of the batch per grid z
    const double* __restrict__ a = A + z * stride_a;
    const double* __restrict__ b = B + z * stride_b;
    double* __restrict__ c = C + z * stride_c;

    gm_dmma_frag_c acc[GM_DMMA_FM][GM_DMMA_FN];
#pragma unroll
    for (int i = 0; i < GM_DMMA_FM; ++i)
#pragma unroll
        for (int j = 0; j < GM_DMMA_FN; ++j) wmma::fill_fragment(acc[i][j], 0.0);

    double ra[GM_DMMA_A_VECS][2], rb[GM_DMMA_B_VECS][2];
    gm_dmma_fetch(a, b, m0, n0, 0, M, N, K, a_vec, b_vec, ra, rb);
    gm_dmma_stage(As[0], Bs[0], ra, rb);
    __syncthreads();

    for (int step = 0; step < k_steps; ++step) {
        const int cur = step & 1;
        const bool more = step + 1 < k_steps;
        if (more) {  // in flight while this step is multiplied
            gm_dmma_fetch(a, b, m0, n0, (step + 1) * GM_DMMA_BK, M, N, K, a_vec, b_vec, ra, rb);
        }
#pragma unroll
        for (int kk = 0; kk < GM_DMMA_BK; kk += 4) {
            gm_dmma_frag_a fa[GM_DMMA_FM];
            gm_dmma_frag_b fb[GM_DMMA_FN];
#pragma unroll
            for (int i = 0; i < GM_DMMA_FM; ++i)
                wmma::load_matrix_sync(fa[i], &As[cur][wm0 + i * 8][kk], GM_DMMA_LDA);
#pragma unroll
            for (int j = 0; j < GM_DMMA_FN; ++j)
                wmma::load_matrix_sync(fb[j], &Bs[cur][kk][wn0 + j * 8], GM_DMMA_LDB);
#pragma unroll
            for (int i = 0; i < GM_DMMA_FM; ++i)
#pragma unroll
                for (int j = 0; j < GM_DMMA_FN; ++j)
                    wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        if (more) {  // the other stage: every thread finished reading it before the
                     // barrier that ended the previous step
            gm_dmma_stage(As[cur ^ 1], Bs[cur ^ 1], ra, rb);
        }
        __syncthreads();
    }

    double* scratch = Cs[warp];
#pragma unroll
    for (int i = 0; i < GM_DMMA_FM; ++i) {
#pragma unroll
        for (int j = 0; j < GM_DMMA_FN; ++j) {
            const int row = m0 + wm0 + i * 8, col = n0 + wn0 + j * 8;  // uniform in the warp
            if (row >= M || col >= N) continue;
            if (c_direct && row + 8 <= M && col + 8 <= N) {
                wmma::store_matrix_sync(c + (gm_index_t)row * N + col, acc[i][j], N,
                                        wmma::mem_row_major);
                continue;
            }
            wmma::store_matrix_sync(scratch, acc[i][j], 8, wmma::mem_row_major);
            __syncwarp();
#pragma unroll
            for (int e = lane; e < 64; e += 32) {
                const int r = row + e / 8, cc = col + e % 8;
                if (r < M && cc < N) c[(gm_index_t)r * N + cc] = scratch[e];
            }
            __syncwarp();  // the next fragment's store overwrites the scratch
        }
    }
}

#endif  // !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800

extern "C" __global__ void __launch_bounds__(GM_DMMA_THREADS, 2)
    gm_matmul_dmma_f64(const double* __restrict__ A, const double* __restrict__ B,
                       double* __restrict__ C, int M, int N, int K, gm_index_t stride_a,
                       gm_index_t stride_b, gm_index_t stride_c) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    gm_matmul_dmma_body(A, B, C, M, N, K, stride_a, stride_b, stride_c);
#endif
}
