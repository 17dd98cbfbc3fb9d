// Tile loaders shared by the GEMM kernels (kernels/matmul.cu, kernels/matmul_dmma.cu): global
// memory -> registers, V elements at a time with zero fill outside the matrix, and
// registers -> shared memory. Blocks of GM_MM_THREADS threads; `q` numbers a thread's
// vectors across the block.
#pragma once

#include "common.cuh"

#define GM_MM_THREADS 256

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

// Fetch this thread's LOADS vectors of a tile whose vectors run along K (A, or the weight of
// gm_linear: rows of R elements, K contiguous). `base` points at row `row0` of the matrix,
// column 0; rows at or beyond `rows` and columns at or beyond K read as zero.
template <typename T, int BK, int V, int LOADS>
__device__ __forceinline__ void gm_mm_fetch_k_major(const T* __restrict__ base, int row0, int rows,
                                                    int k0, int K, bool vec, T (&r)[LOADS][V]) {
#pragma unroll
    for (int l = 0; l < LOADS; ++l) {
        const int q = threadIdx.x + l * GM_MM_THREADS;
        const int row = row0 + q / (BK / V), k = k0 + (q % (BK / V)) * V;
        // The row is clamped so the address stays inside the matrix even when it is not read.
        const T* src = base + (gm_index_t)min(row, rows - 1) * K + k;
        gm_mm_fetch<V>(src, row < rows, k, K, vec, r[l]);
    }
}

// Store those vectors transposed, S[k][row]: the compute loop reads contiguous rows.
template <typename T, int BK, int V, int LOADS, int W>
__device__ __forceinline__ void gm_mm_stage_k_major(T (*S)[W], const T (&r)[LOADS][V]) {
#pragma unroll
    for (int l = 0; l < LOADS; ++l) {
        const int q = threadIdx.x + l * GM_MM_THREADS;
        const int row = q / (BK / V), k = (q % (BK / V)) * V;
#pragma unroll
        for (int j = 0; j < V; ++j) S[k + j][row] = r[l][j];
    }
}

// Fetch this thread's vectors of a (BK x BN) tile of a row-major B (N contiguous): `base`
// points at column `col0` of row `k0`.
template <typename T, int BN, int V, int LOADS>
__device__ __forceinline__ void gm_mm_fetch_n_major(const T* __restrict__ base, int col0, int N,
                                                    int k0, int K, bool vec, T (&r)[LOADS][V]) {
#pragma unroll
    for (int l = 0; l < LOADS; ++l) {
        const int q = threadIdx.x + l * GM_MM_THREADS;
        const int k = q / (BN / V), n = (q % (BN / V)) * V;
        gm_mm_fetch<V>(base + (gm_index_t)k * N + n, k0 + k < K, col0 + n, N, vec, r[l]);
    }
}

template <typename T, int BN, int V, int LOADS, int W>
__device__ __forceinline__ void gm_mm_stage_n_major(T (*S)[W], const T (&r)[LOADS][V]) {
#pragma unroll
    for (int l = 0; l < LOADS; ++l) {
        const int q = threadIdx.x + l * GM_MM_THREADS;
        gm_mm_store_vec(&S[q / (BN / V)][(q % (BN / V)) * V], r[l]);
    }
}
