// Planted bugs in WMMA (double m8n8k4) code, which a GPU punishes silently (wrong data, a
// misaligned-address fault or a hang). The lane's <mma.h> (tests/cuda_emu/include) must fail
// each one naming the kernel and the call site. Launch with one warp: block 32.
#include "common.cuh"

#include <mma.h>

namespace wmma = nvcuda::wmma;

typedef wmma::fragment<wmma::matrix_a, 8, 8, 4, double, wmma::row_major> gm_frag_a;
typedef wmma::fragment<wmma::matrix_b, 8, 8, 4, double, wmma::row_major> gm_frag_b;
typedef wmma::fragment<wmma::accumulator, 8, 8, 4, double> gm_frag_c;

// C (8 x 8) = A (8 x 4) @ B (4 x 8), all row-major, staged in shared memory from x (32 + 32
// values); `a_offset` shifts where the A tile starts, `ldm_a` is its leading dimension, and
// the result goes to out + out_offset with leading dimension 8.
__device__ void gm_planted_product(const double* x, double* out, int a_offset, unsigned ldm_a,
                                   int out_offset) {
    __shared__ __align__(32) double As[8 * 8 + 8];
    __shared__ __align__(32) double Bs[4 * 8];
    const int t = (int)threadIdx.x;
    for (int i = t; i < 8 * 8 + 8; i += 32) As[i] = 0.0;
    __syncthreads();
    As[a_offset + (t / 4) * (int)ldm_a + t % 4] = x[t];
    Bs[t] = x[32 + t];
    __syncthreads();
    gm_frag_a a;
    gm_frag_b b;
    gm_frag_c c;
    wmma::fill_fragment(c, 0.0);
    wmma::load_matrix_sync(a, As + a_offset, ldm_a);
    wmma::load_matrix_sync(b, Bs, 8);
    wmma::mma_sync(c, a, b, c);
    wmma::store_matrix_sync(out + out_offset, c, 8, wmma::mem_row_major);
}

// Correct: the control for the planted kernels below.
extern "C" __global__ void gm_planted_wmma_ok(const double* x, double* out) {
    gm_planted_product(x, out, 0, 4, 0);
}

// The A tile starts one double (8 bytes) past a 32-byte boundary.
extern "C" __global__ void gm_planted_wmma_misaligned_load(const double* x, double* out) {
    gm_planted_product(x, out, 1, 4, 0);  // BUG: a_offset 1
}

// ldm = 5 doubles = 40 bytes: not a multiple of 16 bytes.
extern "C" __global__ void gm_planted_wmma_odd_ldm(const double* x, double* out) {
    gm_planted_product(x, out, 0, 5, 0);  // BUG: ldm 5
}

// The store lands one double past the start of `out` (32-byte aligned when the buffer is).
extern "C" __global__ void gm_planted_wmma_misaligned_store(const double* x, double* out) {
    gm_planted_product(x, out, 0, 4, 1);  // BUG: out + 1
}

// Only half of the warp reaches mma_sync: a hang on the GPU.
extern "C" __global__ void gm_planted_wmma_half_warp(const double* x, double* out) {
    gm_frag_a a;
    gm_frag_b b;
    gm_frag_c c;
    wmma::fill_fragment(a, x[0]);
    wmma::fill_fragment(b, x[1]);
    wmma::fill_fragment(c, 0.0);
    if (threadIdx.x < 16) {  // BUG: warp matrix functions need the whole warp
        wmma::mma_sync(c, a, b, c);
        out[threadIdx.x] = c.x[0];
    }
}

// The accumulator goes to shared memory and each lane reads elements that other lanes stored,
// with no __syncwarp() in between.
extern "C" __global__ void gm_planted_wmma_no_syncwarp(const double* x, double* out) {
    __shared__ __align__(32) double Cs[64];
    gm_frag_a a;
    gm_frag_b b;
    gm_frag_c c;
    wmma::fill_fragment(a, x[threadIdx.x % 4]);
    wmma::fill_fragment(b, 1.0);
    wmma::fill_fragment(c, x[threadIdx.x]);
    wmma::store_matrix_sync(Cs, c, 8, wmma::mem_row_major);
    // BUG: __syncwarp(); missing here
    out[threadIdx.x] = Cs[(threadIdx.x * 7 + 5) % 64];
}
