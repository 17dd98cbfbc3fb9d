// CUDA emulation header for the kernel emulation lane (tests/cuda_emu, issue 3).
//
// It lets g++ compile a kernels/<family>.cu file unchanged, as host C++: the runner passes
// `-include cuda_emu.h -DGM_EMU=1`, so this header comes before the kernel source. Each
// block's threads run as cooperating fibers in emu_runtime.cpp (one OS thread, deterministic
// round-robin, a switch at every barrier and warp primitive), which makes __syncthreads,
// shared memory and warp-synchronous primitives behave as on the GPU and lets the runtime
// detect divergent barriers, deadlocks and out-of-bounds accesses.
//
// What is covered: the qualifiers, dim3 / threadIdx / blockIdx / blockDim / gridDim /
// warpSize, __shared__ (static; dynamic through GM_DYNAMIC_SHARED from common.cuh),
// __syncthreads(_count/_and/_or), __syncwarp, the vector types and make_*, atomics,
// the math intrinsics kernels use, and the warp primitives (__shfl*_sync, __ballot_sync,
// __any_sync, __all_sync, __match_any_sync, __reduce_*_sync, __activemask).
// Not covered: inline PTX (guard it with `#if GM_HAS_INLINE_PTX`), textures, cooperative
// groups, __half. Add what a new kernel needs here, next to its siblings.
#pragma once

#ifndef GM_EMU
#define GM_EMU 1
#endif

#include <cassert>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

// ---------------------------------------------------------------------------------------
// Qualifiers. __shared__ variables become static storage in one named section, so all
// fibers of a block see one copy and the runtime can poison the section at every block start
// (a read of shared memory that no thread of this block wrote gives NaN / -1 bit patterns).
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
#define __constant__
#define __managed__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static __attribute__((section("gm_emu_shared"), aligned(16)))

// ---------------------------------------------------------------------------------------
// Vector types (plain aggregates with the CUDA alignments) and make_*.
#define GM_EMU_VEC2(T, N, A) \
    struct __attribute__((aligned(A))) N##2 { T x, y; }; \
    inline N##2 make_##N##2(T x, T y) { return N##2{x, y}; }
#define GM_EMU_VEC3(T, N) \
    struct N##3 { T x, y, z; }; \
    inline N##3 make_##N##3(T x, T y, T z) { return N##3{x, y, z}; }
#define GM_EMU_VEC4(T, N, A) \
    struct __attribute__((aligned(A))) N##4 { T x, y, z, w; }; \
    inline N##4 make_##N##4(T x, T y, T z, T w) { return N##4{x, y, z, w}; }
#define GM_EMU_VECS(T, N, A2, A4) GM_EMU_VEC2(T, N, A2) GM_EMU_VEC3(T, N) GM_EMU_VEC4(T, N, A4)

GM_EMU_VECS(float, float, 8, 16)
GM_EMU_VECS(double, double, 16, 16)
GM_EMU_VECS(int, int, 8, 16)
GM_EMU_VECS(unsigned int, uint, 8, 16)
GM_EMU_VECS(signed char, char, 2, 4)
GM_EMU_VECS(unsigned char, uchar, 2, 4)
GM_EMU_VECS(short, short, 4, 8)
GM_EMU_VECS(unsigned short, ushort, 4, 8)
GM_EMU_VECS(long long, longlong, 16, 16)
GM_EMU_VECS(unsigned long long, ulonglong, 16, 16)

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
        : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};

constexpr int warpSize = 32;

// ---------------------------------------------------------------------------------------
// The runtime's interface (emu_runtime.cpp, one shared library for every kernel family).
struct gm_emu_thread_pub {
    uint3 tid;
};

// One argument buffer, allocated by gm_emu_alloc with guard pages (see emu_runtime.cpp).
struct gm_emu_buffer {
    const char* label;  // e.g. "argument #1 `out` (float*, 5 elements)"
    char* data;
    long long nbytes;
    long long itemsize;
    char* map_base;
    long long map_len;
};

struct gm_emu_config {
    unsigned int grid[3];
    unsigned int block[3];
    long long shared_bytes;      // dynamic shared memory of the launch
    long long max_shared_bytes;  // the limit it is checked against
    int reverse;                 // 0: blocks and threads in order; 1: both reversed
    double timeout_s;            // watchdog for a launch that never ends
    const char* kernel;
    int nbuf;
    const gm_emu_buffer* bufs;
    char* static_shared_begin;  // set by the trampoline: this family's __shared__ section
    char* static_shared_end;
};

struct gm_emu_result {
    int code;               // gm_emu_code
    long long fp_atomics;   // floating-point atomics executed (their order is not fixed)
    char message[4096];
};

enum gm_emu_code {
    GM_EMU_OK = 0,
    GM_EMU_E_CONFIG = 1,     // invalid launch configuration
    GM_EMU_E_DEADLOCK = 2,   // divergent barrier, deadlock
    GM_EMU_E_BOUNDS = 3,     // out-of-bounds access to an argument buffer / dynamic shared
    GM_EMU_E_MEMORY = 4,     // any other invalid memory access, SIGFPE, stack overflow
    GM_EMU_E_TIMEOUT = 5,    // the launch ran past its timeout
    GM_EMU_E_WARP = 6,       // misuse of a warp primitive
    GM_EMU_E_TRAP = 7,       // __trap(), a failed assert()
    GM_EMU_E_INTERNAL = 8,
};

extern "C" {
extern gm_emu_thread_pub* gm_emu_cur;
extern uint3 gm_emu_blockIdx;
extern dim3 gm_emu_blockDim;
extern dim3 gm_emu_gridDim;
extern long long gm_emu_fp_atomics;
int gm_emu_barrier(int kind, int pred, const char* file, int line);
unsigned int gm_emu_warp(int op, unsigned int mask, const void* in, void* out, int size,
                         int param, int width, const char* file, int line);
unsigned int gm_emu_activemask(void);
void* gm_emu_dynamic_shared(void);
[[noreturn]] void gm_emu_trap(const char* what, const char* file, int line);
int gm_emu_run(gm_emu_config* cfg, void (*body)(void*), void* ctx, gm_emu_result* res);
}

#define threadIdx (static_cast<const uint3&>(gm_emu_cur->tid))
#define blockIdx (static_cast<const uint3&>(gm_emu_blockIdx))
#define blockDim (static_cast<const dim3&>(gm_emu_blockDim))
#define gridDim (static_cast<const dim3&>(gm_emu_gridDim))

// ---------------------------------------------------------------------------------------
// Barriers. The call site travels with the barrier: threads of one block waiting at
// different __syncthreads() are reported as barrier divergence.
#define __syncthreads() ((void)gm_emu_barrier(0, 0, __FILE__, __LINE__))
#define __syncthreads_count(p) gm_emu_barrier(1, (p) ? 1 : 0, __FILE__, __LINE__)
#define __syncthreads_and(p) gm_emu_barrier(2, (p) ? 1 : 0, __FILE__, __LINE__)
#define __syncthreads_or(p) gm_emu_barrier(3, (p) ? 1 : 0, __FILE__, __LINE__)

// Warp primitives: every lane named in the mask must reach one (warp-synchronous).
enum gm_emu_warp_op {
    GM_EMU_W_SYNC = 0,
    GM_EMU_W_IDX = 1,
    GM_EMU_W_UP = 2,
    GM_EMU_W_DOWN = 3,
    GM_EMU_W_XOR = 4,
    GM_EMU_W_BALLOT = 5,
    GM_EMU_W_ANY = 6,
    GM_EMU_W_ALL = 7,
    GM_EMU_W_MATCH_ANY = 8,
    GM_EMU_W_RED_ADD = 9,
    GM_EMU_W_RED_MIN_S = 10,
    GM_EMU_W_RED_MAX_S = 11,
    GM_EMU_W_RED_MIN_U = 12,
    GM_EMU_W_RED_MAX_U = 13,
    GM_EMU_W_RED_AND = 14,
    GM_EMU_W_RED_OR = 15,
    GM_EMU_W_RED_XOR = 16,
};

namespace gm_emu {
template <typename T>
inline T shfl(int op, const char* file, int line, unsigned int mask, T v, int p, int width = 32) {
    static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 16,
                  "warp shuffles move trivially copyable values of at most 16 bytes");
    T r;
    gm_emu_warp(op, mask, &v, &r, (int)sizeof(T), p, width, file, line);
    return r;
}
template <typename T>
inline unsigned int match_any(const char* file, int line, unsigned int mask, T v) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "__match_any_sync takes 4- or 8-byte values");
    return gm_emu_warp(GM_EMU_W_MATCH_ANY, mask, &v, nullptr, (int)sizeof(T), 0, 32, file, line);
}
template <typename T>
inline T reduce(int op, const char* file, int line, unsigned int mask, T v) {
    static_assert(std::is_integral<T>::value && sizeof(T) == 4, "__reduce_*_sync takes int or unsigned");
    if (op == GM_EMU_W_RED_MIN_S && std::is_unsigned<T>::value) op = GM_EMU_W_RED_MIN_U;
    if (op == GM_EMU_W_RED_MAX_S && std::is_unsigned<T>::value) op = GM_EMU_W_RED_MAX_U;
    T r;
    gm_emu_warp(op, mask, &v, &r, 4, 0, 32, file, line);
    return r;
}
inline void syncwarp(const char* file, int line, unsigned int mask = 0xffffffffu) {
    gm_emu_warp(GM_EMU_W_SYNC, mask, nullptr, nullptr, 0, 0, 32, file, line);
}
}  // namespace gm_emu

#define __shfl_sync(...) ::gm_emu::shfl(GM_EMU_W_IDX, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_up_sync(...) ::gm_emu::shfl(GM_EMU_W_UP, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_down_sync(...) ::gm_emu::shfl(GM_EMU_W_DOWN, __FILE__, __LINE__, __VA_ARGS__)
#define __shfl_xor_sync(...) ::gm_emu::shfl(GM_EMU_W_XOR, __FILE__, __LINE__, __VA_ARGS__)
#define __ballot_sync(mask, pred) \
    gm_emu_warp(GM_EMU_W_BALLOT, (mask), nullptr, nullptr, 0, (pred) ? 1 : 0, 32, __FILE__, __LINE__)
#define __any_sync(mask, pred) \
    ((int)gm_emu_warp(GM_EMU_W_ANY, (mask), nullptr, nullptr, 0, (pred) ? 1 : 0, 32, __FILE__, __LINE__))
#define __all_sync(mask, pred) \
    ((int)gm_emu_warp(GM_EMU_W_ALL, (mask), nullptr, nullptr, 0, (pred) ? 1 : 0, 32, __FILE__, __LINE__))
#define __match_any_sync(mask, v) ::gm_emu::match_any(__FILE__, __LINE__, (mask), (v))
#define __reduce_add_sync(mask, v) ::gm_emu::reduce(GM_EMU_W_RED_ADD, __FILE__, __LINE__, (mask), (v))
#define __reduce_min_sync(mask, v) ::gm_emu::reduce(GM_EMU_W_RED_MIN_S, __FILE__, __LINE__, (mask), (v))
#define __reduce_max_sync(mask, v) ::gm_emu::reduce(GM_EMU_W_RED_MAX_S, __FILE__, __LINE__, (mask), (v))
#define __reduce_and_sync(mask, v) ::gm_emu::reduce(GM_EMU_W_RED_AND, __FILE__, __LINE__, (mask), (v))
#define __reduce_or_sync(mask, v) ::gm_emu::reduce(GM_EMU_W_RED_OR, __FILE__, __LINE__, (mask), (v))
#define __reduce_xor_sync(mask, v) ::gm_emu::reduce(GM_EMU_W_RED_XOR, __FILE__, __LINE__, (mask), (v))
#define __syncwarp(...) ::gm_emu::syncwarp(__FILE__, __LINE__, ##__VA_ARGS__)
#define __activemask() gm_emu_activemask()

inline unsigned int gm_emu_laneid() {
    const uint3 t = gm_emu_cur->tid;
    return (t.x + gm_emu_blockDim.x * (t.y + gm_emu_blockDim.y * t.z)) & 31u;
}
inline unsigned int __lanemask_lt() { return (1u << gm_emu_laneid()) - 1u; }
inline unsigned int __lanemask_le() { return (unsigned int)((2ull << gm_emu_laneid()) - 1ull); }
inline unsigned int __lanemask_eq() { return 1u << gm_emu_laneid(); }

// ---------------------------------------------------------------------------------------
// Memory fences, cache hints, traps. Fibers of one block run on one OS thread, so a fence
// only has to stop the compiler from caching across it.
inline void __threadfence() { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
template <typename T> inline T __ldg(const T* p) { return *p; }
template <typename T> inline T __ldcg(const T* p) { return *p; }
template <typename T> inline T __ldca(const T* p) { return *p; }
template <typename T> inline T __ldcs(const T* p) { return *p; }
template <typename T> inline T __ldlu(const T* p) { return *p; }
template <typename T> inline T __ldcv(const T* p) { return *p; }
template <typename T> inline void __stcg(T* p, T v) { *p = v; }
template <typename T> inline void __stcs(T* p, T v) { *p = v; }
template <typename T> inline void __stwb(T* p, T v) { *p = v; }
template <typename T> inline void __stwt(T* p, T v) { *p = v; }
#define __trap() gm_emu_trap("__trap()", __FILE__, __LINE__)
inline long long clock64() {
    static long long t = 0;
    return t += 1000;
}
#undef assert
#define assert(e) ((e) ? (void)0 : gm_emu_trap("assert(" #e ") failed", __FILE__, __LINE__))

// ---------------------------------------------------------------------------------------
// Atomics: a fiber is never interrupted inside one, so plain read-modify-write is atomic.
// Floating-point atomicAdd is counted: its summation order depends on the schedule, and the
// runner compares the forward and reverse schedules with a tolerance when any ran.
#define GM_EMU_ATOMIC_RMW(NAME, T, EXPR) \
    inline T NAME(T* a, T v) {           \
        T old = *a;                       \
        *a = (EXPR);                      \
        return old;                       \
    }
#define GM_EMU_ATOMIC_INT(T)                                    \
    GM_EMU_ATOMIC_RMW(atomicAdd, T, old + v)                    \
    GM_EMU_ATOMIC_RMW(atomicSub, T, old - v)                    \
    GM_EMU_ATOMIC_RMW(atomicExch, T, v)                         \
    GM_EMU_ATOMIC_RMW(atomicMin, T, v < old ? v : old)          \
    GM_EMU_ATOMIC_RMW(atomicMax, T, v > old ? v : old)          \
    GM_EMU_ATOMIC_RMW(atomicAnd, T, old & v)                    \
    GM_EMU_ATOMIC_RMW(atomicOr, T, old | v)                     \
    GM_EMU_ATOMIC_RMW(atomicXor, T, old ^ v)                    \
    inline T atomicCAS(T* a, T cmp, T v) {                      \
        T old = *a;                                             \
        *a = old == cmp ? v : old;                              \
        return old;                                             \
    }
GM_EMU_ATOMIC_INT(int)
GM_EMU_ATOMIC_INT(unsigned int)
GM_EMU_ATOMIC_INT(long long)
GM_EMU_ATOMIC_INT(unsigned long long)
inline float atomicAdd(float* a, float v) {
    ++gm_emu_fp_atomics;
    float old = *a;
    *a = old + v;
    return old;
}
inline double atomicAdd(double* a, double v) {
    ++gm_emu_fp_atomics;
    double old = *a;
    *a = old + v;
    return old;
}
GM_EMU_ATOMIC_RMW(atomicExch, float, v)
inline unsigned int atomicInc(unsigned int* a, unsigned int v) {
    unsigned int old = *a;
    *a = old >= v ? 0u : old + 1u;
    return old;
}
inline unsigned int atomicDec(unsigned int* a, unsigned int v) {
    unsigned int old = *a;
    *a = (old == 0u || old > v) ? v : old - 1u;
    return old;
}
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicMax_block atomicMax
#define atomicMin_block atomicMin
#define atomicCAS_block atomicCAS
#define atomicExch_block atomicExch

// ---------------------------------------------------------------------------------------
// Math. Host libm gives IEEE results; the GPU's fast intrinsics are less accurate, so tests
// compare with a tolerance anyway. No -ffast-math: NaN and inf behave as on the GPU.
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline double rcbrt(double x) { return 1.0 / cbrt(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __powf(float a, float b) { return powf(a, b); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __saturatef(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline double __dsqrt_rn(double x) { return sqrt(x); }
inline float sinpif(float x) { return sinf((float)M_PI * x); }
inline float cospif(float x) { return cosf((float)M_PI * x); }
inline double sinpi(double x) { return sin(M_PI * x); }
inline double cospi(double x) { return cos(M_PI * x); }
inline void sincospif(float x, float* s, float* c) { *s = sinpif(x); *c = cospif(x); }
inline void sincospi(double x, double* s, double* c) { *s = sinpi(x); *c = cospi(x); }
inline float normcdff(float x) { return 0.5f * erfcf(-x * 0.70710678118654752f); }
inline double normcdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }
inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline int __float_as_int(float v) { int i; std::memcpy(&i, &v, 4); return i; }
inline float __uint_as_float(unsigned int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline unsigned int __float_as_uint(float v) { unsigned int i; std::memcpy(&i, &v, 4); return i; }
inline double __longlong_as_double(long long v) { double d; std::memcpy(&d, &v, 8); return d; }
inline long long __double_as_longlong(double v) { long long i; std::memcpy(&i, &v, 8); return i; }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)x; }
inline int __float2int_rd(float x) { return (int)floorf(x); }
inline int __float2int_ru(float x) { return (int)ceilf(x); }
inline int __double2int_rn(double x) { return (int)nearbyint(x); }
inline long long __float2ll_rn(float x) { return (long long)nearbyintf(x); }
inline long long __double2ll_rn(double x) { return (long long)nearbyint(x); }
inline float __int2float_rn(int x) { return (float)x; }
inline float __ll2float_rn(long long x) { return (float)x; }
inline double __ll2double_rn(long long x) { return (double)x; }
inline float __double2float_rn(double x) { return (float)x; }
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned int)x); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
    unsigned int r = 0;
    for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
    return r;
}
inline int __mul24(int a, int b) { return a * b; }
inline unsigned int __umul24(unsigned int a, unsigned int b) { return a * b; }
inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}

// CUDA's device-side min/max: same-type overloads plus mixed arithmetic types.
#define GM_EMU_MINMAX(T)                                   \
    inline T min(T a, T b) { return b < a ? b : a; }       \
    inline T max(T a, T b) { return a < b ? b : a; }
GM_EMU_MINMAX(int)
GM_EMU_MINMAX(unsigned int)
GM_EMU_MINMAX(long long)
GM_EMU_MINMAX(unsigned long long)
GM_EMU_MINMAX(long)
GM_EMU_MINMAX(unsigned long)
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
template <typename A, typename B,
          typename = typename std::enable_if<!std::is_same<A, B>::value &&
                                             std::is_arithmetic<A>::value &&
                                             std::is_arithmetic<B>::value>::type>
inline typename std::common_type<A, B>::type min(A a, B b) {
    typedef typename std::common_type<A, B>::type C;
    return min((C)a, (C)b);
}
template <typename A, typename B,
          typename = typename std::enable_if<!std::is_same<A, B>::value &&
                                             std::is_arithmetic<A>::value &&
                                             std::is_arithmetic<B>::value>::type>
inline typename std::common_type<A, B>::type max(A a, B b) {
    typedef typename std::common_type<A, B>::type C;
    return max((C)a, (C)b);
}

// ---------------------------------------------------------------------------------------
// Trampolines: the runner appends GM_EMU_KERNEL(name) for every `extern "C" __global__`
// function of the file. Each exports the kernel's parameter types (so Python checks the
// arguments) and a launch entry that unpacks a void** argument array.
extern "C" char __start_gm_emu_shared[] __attribute__((weak, visibility("hidden")));
extern "C" char __stop_gm_emu_shared[] __attribute__((weak, visibility("hidden")));

namespace gm_emu {
template <typename T> struct code { static std::string get() { return "?" + std::to_string(sizeof(T)); } };
#define GM_EMU_CODE(T, S) template <> struct code<T> { static std::string get() { return S; } };
GM_EMU_CODE(float, "f4")
GM_EMU_CODE(double, "f8")
GM_EMU_CODE(bool, "b1")
GM_EMU_CODE(char, "i1")
GM_EMU_CODE(signed char, "i1")
GM_EMU_CODE(unsigned char, "u1")
GM_EMU_CODE(short, "i2")
GM_EMU_CODE(unsigned short, "u2")
GM_EMU_CODE(int, "i4")
GM_EMU_CODE(unsigned int, "u4")
GM_EMU_CODE(long, "i8")
GM_EMU_CODE(unsigned long, "u8")
GM_EMU_CODE(long long, "i8")
GM_EMU_CODE(unsigned long long, "u8")
GM_EMU_CODE(void, "v")
#define GM_EMU_VCODE(N, S) GM_EMU_CODE(N##2, S "x2") GM_EMU_CODE(N##3, S "x3") GM_EMU_CODE(N##4, S "x4")
GM_EMU_VCODE(float, "f4")
GM_EMU_VCODE(double, "f8")
GM_EMU_VCODE(int, "i4")
GM_EMU_VCODE(uint, "u4")
GM_EMU_VCODE(char, "i1")
GM_EMU_VCODE(uchar, "u1")
GM_EMU_VCODE(short, "i2")
GM_EMU_VCODE(ushort, "u2")
GM_EMU_VCODE(longlong, "i8")
GM_EMU_VCODE(ulonglong, "u8")
template <typename T> struct code<T*> {
    static std::string get() {
        return std::string(std::is_const<T>::value ? "*c" : "*") + code<typename std::remove_cv<T>::type>::get();
    }
};

template <typename... A>
inline std::string signature(void (*)(A...)) {
    std::string s;
    const std::string parts[] = {std::string(), code<A>::get()...};
    for (size_t i = 1; i < sizeof...(A) + 1; ++i) s += (i > 1 ? "," : "") + parts[i];
    return s;
}

template <typename... A> struct call {
    void (*fn)(A...);
    void** args;
    template <size_t... I> void go(std::index_sequence<I...>) { fn(*static_cast<A*>(args[I])...); }
    static void body(void* self) { static_cast<call*>(self)->go(std::index_sequence_for<A...>{}); }
};

template <typename... A>
inline int launch(void (*fn)(A...), gm_emu_config* cfg, void** args, gm_emu_result* res) {
    call<A...> c{fn, args};
    cfg->static_shared_begin = __start_gm_emu_shared;
    cfg->static_shared_end = __stop_gm_emu_shared;
    return gm_emu_run(cfg, &call<A...>::body, &c, res);
}
}  // namespace gm_emu

#define GM_EMU_EXPORT extern "C" __attribute__((visibility("default")))
#define GM_EMU_KERNEL(K)                                                                 \
    GM_EMU_EXPORT const char* gm_emu_sig_##K() {                                         \
        static const std::string s = ::gm_emu::signature(&K);                            \
        return s.c_str();                                                                \
    }                                                                                    \
    GM_EMU_EXPORT int gm_emu_launch_##K(gm_emu_config* cfg, void** args, gm_emu_result* r) { \
        return ::gm_emu::launch(&K, cfg, args, r);                                       \
    }
