// The emulation lane's stand-in for CUDA's <mma.h>: the WMMA API (nvcuda::wmma) for the one
// shape gpumath's kernels use, double m8n8k4 (FP64 tensor cores, sm_80+). The runner puts
// tests/cuda_emu/include on the include path, so a kernel's `#include <mma.h>` finds this
// file; cuda_emu.h has been force-included before it.
//
// Fragments. The GPU spreads a fragment over the 32 lanes in a layout the API leaves
// unspecified; here every lane holds the whole tile (row-major in x[]: A 8 x 4, B 4 x 8,
// accumulator 8 x 8), loads all of it and computes the 8 x 8 product itself. So
// num_elements is the tile size, not the GPU's per-lane count (1 for A and B, 2 for the
// accumulator): kernels may only apply the same operation to every x[i], as the API allows.
// A store writes only the elements the calling lane owns in the mma.m8n8k4.f64 accumulator
// layout (lane = 4 * row + col / 2), so a lane that reads back what other lanes stored before
// a __syncwarp() sees stale data, and the runner's two schedules disagree (EmuRaceError).
//
// Checks, each failing the launch with EmuTrapError naming the kernel, call site and thread
// (the rules a GPU breaks silently, with wrong results or a hang):
//   * load_matrix_sync / store_matrix_sync: the pointer is 32-byte (256-bit) aligned and ldm
//     a multiple of 2 doubles (16 bytes);
//   * load, store and mma_sync are warp-collective: the block's warps are whole (blockDim a
//     multiple of 32 in total), all 32 lanes reach the same call with the same pointer and
//     ldm. The lanes meet in a warp exchange at the call site, so a lane that has exited or
//     waits elsewhere is reported by the runtime as a deadlock (EmuDeadlockError) in that
//     exchange (named __shfl_sync) at the kernel's file and line.
// fill_fragment touches only the caller's registers and is not checked.
#pragma once

#ifndef GM_EMU
#error "tests/cuda_emu/include/mma.h replaces CUDA's <mma.h> in the emulation lane only"
#endif

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <type_traits>

namespace nvcuda {
namespace wmma {

struct row_major;
struct col_major;
struct matrix_a;
struct matrix_b;
struct accumulator;

enum layout_t { mem_row_major, mem_col_major };

// Only the specialisations below exist, as on the GPU: another shape or type fails to compile.
template <typename Use, int m, int n, int k, typename T, typename Layout = void>
class fragment;

namespace gm_detail {

template <typename T, int Rows, int Cols>
struct tile {
    enum { num_elements = Rows * Cols, num_storage_elements = Rows * Cols };
    typedef T element_type;
    T x[Rows * Cols];  // the whole tile, row-major
};

[[noreturn]] __attribute__((format(printf, 3, 4))) inline void fail(const char* file, int line,
                                                                   const char* fmt, ...) {
    static char msg[768];  // fibers share one OS thread and the trap never returns
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gm_emu_trap(msg, file, line);
}

inline void check_memory(const char* what, const void* p, unsigned ldm, const char* file,
                         int line) {
    if (reinterpret_cast<std::uintptr_t>(p) % 32 != 0) {
        fail(file, line,
             "wmma::%s: pointer %p is not 32-byte (256-bit) aligned; WMMA loads and stores "
             "need mptr 256-bit aligned (on a GPU: wrong data or a misaligned-address fault)",
             what, p);
    }
    if (ldm % 2 != 0) {
        fail(file, line,
             "wmma::%s: ldm = %u is not a multiple of 2 doubles (16 bytes), as WMMA requires",
             what, ldm);
    }
}

// Every lane of a whole warp must make this call, at the same site, with the same pointer and
// ldm: the lanes meet in a warp exchange of lane 0's arguments.
inline void warp_collective(const char* what, const void* p, unsigned ldm, const char* file,
                            int line) {
    const uint3 t = gm_emu_cur->tid;
    const unsigned threads = gm_emu_blockDim.x * gm_emu_blockDim.y * gm_emu_blockDim.z;
    const unsigned linear = t.x + gm_emu_blockDim.x * (t.y + gm_emu_blockDim.y * t.z);
    if (linear / 32 * 32 + 32 > threads) {
        fail(file, line,
             "wmma::%s in warp %u, which has only %u lanes (block of %u threads); WMMA needs "
             "all 32 lanes of a whole warp",
             what, linear / 32, threads - linear / 32 * 32, threads);
    }
    struct args {
        const void* p;
        unsigned ldm;
        int line;
    };
    static_assert(sizeof(args) <= 16, "a warp exchange moves at most 16 bytes");
    const args mine{p, ldm, line};
    args first;
    gm_emu_warp(GM_EMU_W_IDX, 0xffffffffu, &mine, &first, (int)sizeof mine, 0, 32, file, line);
    if (first.p != p || first.ldm != ldm || first.line != line) {
        fail(file, line,
             "wmma::%s: lane %u passes pointer %p, ldm %u (line %d) but lane 0 passes pointer "
             "%p, ldm %u (line %d); a warp matrix function takes the same arguments in every "
             "lane, reached by the whole warp at one call site",
             what, linear % 32, p, ldm, line, first.p, first.ldm, first.line);
    }
}

// Element (r, c) of a Rows x Cols tile stored with leading dimension ldm.
inline std::size_t at(bool row_major_mem, int r, int c, unsigned ldm) {
    return row_major_mem ? (std::size_t)r * ldm + c : (std::size_t)c * ldm + r;
}

template <typename Layout>
constexpr bool is_row_major() {
    return std::is_same<Layout, row_major>::value;
}

template <int Rows, int Cols>
inline void load_tile(tile<double, Rows, Cols>& f, const double* p, unsigned ldm, bool row_mem,
                      const char* file, int line) {
    check_memory("load_matrix_sync", p, ldm, file, line);
    warp_collective("load_matrix_sync", p, ldm, file, line);
    for (int r = 0; r < Rows; ++r)
        for (int c = 0; c < Cols; ++c) f.x[r * Cols + c] = p[at(row_mem, r, c, ldm)];
}

}  // namespace gm_detail

template <typename Layout>
class fragment<matrix_a, 8, 8, 4, double, Layout> : public gm_detail::tile<double, 8, 4> {
    static_assert(gm_detail::is_row_major<Layout>() || std::is_same<Layout, col_major>::value,
                  "matrix_a fragments take row_major or col_major");
};

template <typename Layout>
class fragment<matrix_b, 8, 8, 4, double, Layout> : public gm_detail::tile<double, 4, 8> {
    static_assert(gm_detail::is_row_major<Layout>() || std::is_same<Layout, col_major>::value,
                  "matrix_b fragments take row_major or col_major");
};

template <>
class fragment<accumulator, 8, 8, 4, double> : public gm_detail::tile<double, 8, 8> {};

template <typename Use, typename Layout>
inline void fill_fragment(fragment<Use, 8, 8, 4, double, Layout>& f, const double& v) {
    for (double& e : f.x) e = v;
}

template <typename Layout>
inline void load_matrix_sync(fragment<matrix_a, 8, 8, 4, double, Layout>& f, const double* p,
                             unsigned ldm, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
    gm_detail::load_tile(f, p, ldm, gm_detail::is_row_major<Layout>(), file, line);
}

template <typename Layout>
inline void load_matrix_sync(fragment<matrix_b, 8, 8, 4, double, Layout>& f, const double* p,
                             unsigned ldm, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
    gm_detail::load_tile(f, p, ldm, gm_detail::is_row_major<Layout>(), file, line);
}

inline void load_matrix_sync(fragment<accumulator, 8, 8, 4, double>& f, const double* p,
                             unsigned ldm, layout_t layout, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
    gm_detail::load_tile(f, p, ldm, layout == mem_row_major, file, line);
}

// Writes only this lane's two elements (the accumulator layout of mma.m8n8k4.f64).
inline void store_matrix_sync(double* p, const fragment<accumulator, 8, 8, 4, double>& f,
                              unsigned ldm, layout_t layout, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
    gm_detail::check_memory("store_matrix_sync", p, ldm, file, line);
    gm_detail::warp_collective("store_matrix_sync", p, ldm, file, line);
    const unsigned lane = gm_emu_laneid();
    const int r = (int)(lane / 4);
    for (int c = 2 * (int)(lane % 4); c < 2 * (int)(lane % 4) + 2; ++c)
        p[gm_detail::at(layout == mem_row_major, r, c, ldm)] = f.x[r * 8 + c];
}

// d = a b + c, one fused multiply-add per k in order (DMMA is IEEE float64 throughout); d may
// be c.
template <typename LayoutA, typename LayoutB>
inline void mma_sync(fragment<accumulator, 8, 8, 4, double>& d,
                     const fragment<matrix_a, 8, 8, 4, double, LayoutA>& a,
                     const fragment<matrix_b, 8, 8, 4, double, LayoutB>& b,
                     const fragment<accumulator, 8, 8, 4, double>& c,
                     const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    gm_detail::warp_collective("mma_sync", nullptr, 0, file, line);
    double out[64];
    for (int r = 0; r < 8; ++r) {
        for (int n = 0; n < 8; ++n) {
            double s = c.x[r * 8 + n];
            for (int k = 0; k < 4; ++k) s = std::fma(a.x[r * 4 + k], b.x[k * 8 + n], s);
            out[r * 8 + n] = s;
        }
    }
    for (int i = 0; i < 64; ++i) d.x[i] = out[i];
}

}  // namespace wmma
}  // namespace nvcuda
