// CSR sparse matrix times dense vector: y = A x, one group of `lanes` threads per row.
//
// `lanes` (a power of two, 1..32) threads share a row: each strides through the row's
// non-zeros, and the group then sums its partial results with __shfl_down_sync inside the
// warp. lanes = 32 is the classic vector-per-row kernel (one warp per row, long rows);
// lanes = 1 is scalar-per-row (very short rows); in between suits rows of a few to a few
// tens of non-zeros, so that most lanes do useful work. The Python side picks lanes from the
// mean row length.
//
// Every lane of a warp runs the same number of loop iterations (the loop is over groups of
// rows of the whole warp, not over this thread's row), so the full-mask shuffles are always
// reached by all 32 lanes, even past the last row. Column indices and row offsets are 32-bit,
// the format cuSPARSE uses, so both paths read the same arrays; row counters are 64-bit.
#include "common.cuh"

template <typename T>
__device__ __forceinline__ void gm_spmv_csr_body(const T* __restrict__ data,
                                                 const int* __restrict__ indices,
                                                 const int* __restrict__ indptr,
                                                 const T* __restrict__ x, T* __restrict__ y,
                                                 gm_index_t n_rows, int lanes) {
    const int lane = threadIdx.x & 31;
    const int sub = lane & (lanes - 1);  // this thread's position inside its row group
    const gm_index_t rows_per_warp = 32 / lanes;
    const gm_index_t warp = gm_global_thread_index() / 32;
    const gm_index_t n_warps = gm_grid_stride() / 32;
    for (gm_index_t first = warp * rows_per_warp; first < n_rows;
         first += n_warps * rows_per_warp) {
        const gm_index_t row = first + lane / lanes;
        T sum = T(0);
        if (row < n_rows) {
            const int end = indptr[row + 1];
            for (int k = indptr[row] + sub; k < end; k += lanes) {
                sum += data[k] * x[indices[k]];
            }
        }
        for (int offset = lanes / 2; offset > 0; offset /= 2) {
            sum += __shfl_down_sync(0xffffffffu, sum, offset, lanes);
        }
        if (row < n_rows && sub == 0) {
            y[row] = sum;
        }
    }
}

extern "C" __global__ void gm_spmv_csr_f32(const float* __restrict__ data,
                                           const int* __restrict__ indices,
                                           const int* __restrict__ indptr,
                                           const float* __restrict__ x, float* __restrict__ y,
                                           gm_index_t n_rows, int lanes) {
    gm_spmv_csr_body<float>(data, indices, indptr, x, y, n_rows, lanes);
}

extern "C" __global__ void gm_spmv_csr_f64(const double* __restrict__ data,
                                           const int* __restrict__ indices,
                                           const int* __restrict__ indptr,
                                           const double* __restrict__ x, double* __restrict__ y,
                                           gm_index_t n_rows, int lanes) {
    gm_spmv_csr_body<double>(data, indices, indptr, x, y, n_rows, lanes);
}
