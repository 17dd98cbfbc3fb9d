// Runtime of the kernel emulation lane: runs a CUDA grid on the CPU.
//
// * Blocks run one after another. A block's threads are fibers (ucontext) on the calling OS
//   thread, scheduled round-robin; a fiber runs until it exits, reaches a barrier or reaches
//   a warp primitive. The schedule is deterministic, forward (thread 0 first, block 0 first)
//   or reversed; the runner runs both and compares the results, so a missing __syncthreads
//   (a read of a value another thread writes between the same two barriers) shows up as a
//   schedule-dependent result.
// * __syncthreads: when no fiber can run, all live threads must wait at the same barrier
//   call site; threads that exited while others wait, or threads waiting at different
//   barriers, are reported as barrier divergence (on a GPU: a hang or undefined behaviour).
// * Warp primitives complete when every lane named in the mask has reached one; the results
//   are computed for all lanes at once (warp-synchronous semantics).
// * Argument buffers come from gm_emu_alloc: a guard page (PROT_NONE) on each side, the data
//   placed to end exactly at the upper guard page ("end") or start at the lower one
//   ("start"); const-only buffers are made read-only. A SIGSEGV/SIGBUS/SIGFPE during a launch
//   is caught on an alternate signal stack and turned into an error that names the kernel,
//   the argument, the element index and the thread; the slack bytes between the data and the
//   guard pages hold a canary, checked after the launch.
// * A watchdog thread ends a launch that runs past its timeout (an infinite loop) with an
//   error instead of a hang.
#include "cuda_emu.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#define GM_EMU_API extern "C" __attribute__((visibility("default")))

extern "C" {
__attribute__((visibility("default"))) gm_emu_thread_pub* gm_emu_cur = nullptr;
__attribute__((visibility("default"))) uint3 gm_emu_blockIdx = {0, 0, 0};
__attribute__((visibility("default"))) dim3 gm_emu_blockDim;
__attribute__((visibility("default"))) dim3 gm_emu_gridDim;
__attribute__((visibility("default"))) long long gm_emu_fp_atomics = 0;
}

namespace {

enum State { RUNNABLE, AT_BARRIER, AT_WARP, EXITED };
const unsigned char kCanary = 0xA5;
const unsigned char kPoison = 0xFF;

struct Fiber {
    gm_emu_thread_pub pub;  // what threadIdx reads
    int linear = 0;
    State state = RUNNABLE;
    ucontext_t ctx;
    char* stack = nullptr;
    // at a barrier
    int bar_kind = 0, bar_pred = 0, bar_result = 0, bar_line = 0;
    const char* bar_file = nullptr;
    // at a warp primitive
    int w_op = 0, w_size = 0, w_param = 0, w_width = 32, w_line = 0;
    unsigned int w_mask = 0, w_ret = 0;
    const char* w_file = nullptr;
    unsigned char w_in[16], w_out[16];
};

size_t g_page = 4096;
size_t g_stack_bytes = 0;
char* g_stacks = nullptr;  // one mapping: per fiber, a guard page then the stack
size_t g_stack_slots = 0;
std::vector<Fiber> g_fibers;
int g_nthreads = 0;

ucontext_t g_sched_ctx;
sigjmp_buf g_jmp;
std::mutex g_launch_mutex;
volatile sig_atomic_t g_active = 0;
volatile sig_atomic_t g_in_fiber = 0;
volatile sig_atomic_t g_timed_out = 0;
pthread_t g_thread;
Fiber* volatile g_fiber = nullptr;  // the fiber that runs (or ran last)

// fault information, written by the signal handler
volatile int g_fault_sig = 0;
void* volatile g_fault_addr = nullptr;
volatile int g_fault_write = -1;  // 1 write, 0 read, -1 unknown
volatile int g_fault_in_fiber = 0;

std::string g_error;
const gm_emu_config* g_cfg = nullptr;
void (*g_body)(void*) = nullptr;
void* g_body_ctx = nullptr;

char* g_dyn_map = nullptr;
size_t g_dyn_map_len = 0;
char* g_dyn = nullptr;  // dynamic shared memory, ends at a guard page

char g_altstack[1 << 16];
struct sigaction g_old_segv, g_old_bus, g_old_fpe, g_old_timeout;
int g_timeout_sig = 0;

std::string fmt(const char* f, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

const char* base_name(const char* path) {
    if (!path) return "?";
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}

std::string where(const Fiber* f) {
    std::string s;
    if (f) {
        s = fmt("thread (%u,%u,%u)", f->pub.tid.x, f->pub.tid.y, f->pub.tid.z);
    } else {
        s = "no thread";
    }
    return s + fmt(" of block (%u,%u,%u)", gm_emu_blockIdx.x, gm_emu_blockIdx.y, gm_emu_blockIdx.z);
}

std::string tname(const Fiber* f) {
    return fmt("(%u,%u,%u)", f->pub.tid.x, f->pub.tid.y, f->pub.tid.z);
}

std::string block_name() {
    return fmt("block (%u,%u,%u)", gm_emu_blockIdx.x, gm_emu_blockIdx.y, gm_emu_blockIdx.z);
}

const char* kernel_name() { return g_cfg && g_cfg->kernel ? g_cfg->kernel : "kernel"; }

[[noreturn]] void fail(int code, const std::string& msg) {
    g_error = std::string(kernel_name()) + ": " + msg;
    siglongjmp(g_jmp, code);
}

const char* barrier_name(int kind) {
    static const char* names[] = {"__syncthreads()", "__syncthreads_count()", "__syncthreads_and()",
                                  "__syncthreads_or()"};
    return kind >= 0 && kind < 4 ? names[kind] : "barrier";
}

const char* warp_name(int op) {
    static const char* names[] = {"__syncwarp",        "__shfl_sync",       "__shfl_up_sync",
                                  "__shfl_down_sync",  "__shfl_xor_sync",   "__ballot_sync",
                                  "__any_sync",        "__all_sync",        "__match_any_sync",
                                  "__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync",
                                  "__reduce_min_sync", "__reduce_max_sync", "__reduce_and_sync",
                                  "__reduce_or_sync",  "__reduce_xor_sync"};
    return op >= 0 && op <= 16 ? names[op] : "warp primitive";
}

std::string state_of(const Fiber* f) {
    switch (f->state) {
        case EXITED: return "has exited";
        case AT_BARRIER:
            return fmt("waits at %s (%s:%d)", barrier_name(f->bar_kind), base_name(f->bar_file), f->bar_line);
        case AT_WARP:
            return fmt("waits in %s (%s:%d) with mask 0x%08x", warp_name(f->w_op), base_name(f->w_file),
                       f->w_line, f->w_mask);
        default: return "is runnable";
    }
}

// ------------------------------------------------------------------------------------
// Fiber stacks: allocated once, grown on demand, each with a PROT_NONE guard page below.
void ensure_stacks(int n) {
    if ((size_t)n <= g_stack_slots) return;
    if (g_stacks) munmap(g_stacks, g_stack_slots * (g_stack_bytes + g_page));
    g_stacks = nullptr;
    g_stack_slots = 0;
    size_t slot = g_stack_bytes + g_page;
    void* p = mmap(nullptr, slot * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    g_stacks = static_cast<char*>(p);
    for (int i = 0; i < n; ++i) mprotect(g_stacks + i * slot, g_page, PROT_NONE);
    g_stack_slots = n;
}

void fiber_entry() {
    Fiber* f = g_fiber;
    g_body(g_body_ctx);
    f->state = EXITED;
    // returning resumes g_sched_ctx through uc_link
}

void yield_fiber(Fiber* f) {
    swapcontext(&f->ctx, &g_sched_ctx);
}

// ------------------------------------------------------------------------------------
// Barriers
void release_or_fail_barrier() {
    int n = g_nthreads, exited = 0, at_bar = 0, at_warp = 0;
    Fiber* first_exited = nullptr;
    for (int i = 0; i < n; ++i) {
        Fiber& f = g_fibers[i];
        if (f.state == EXITED) {
            ++exited;
            if (!first_exited) first_exited = &f;
        } else if (f.state == AT_BARRIER) {
            ++at_bar;
        } else if (f.state == AT_WARP) {
            ++at_warp;
        }
    }
    if (at_warp > 0) {
        // a warp primitive waits for a lane that will never come
        for (int i = 0; i < n; ++i) {
            Fiber& f = g_fibers[i];
            if (f.state != AT_WARP) continue;
            int base = (f.linear / 32) * 32;
            for (int l = 0; l < 32 && base + l < n; ++l) {
                Fiber& g = g_fibers[base + l];
                if (!((f.w_mask >> l) & 1u) || g.state == AT_WARP) continue;
                fail(GM_EMU_E_DEADLOCK,
                     fmt("deadlock in %s: thread %s (lane %d) %s, but lane %d (thread %s), named in the mask, %s. "
                         "Every lane named in a warp primitive's mask must reach it.",
                         block_name().c_str(), tname(&f).c_str(), f.linear % 32, state_of(&f).c_str(), l,
                         tname(&g).c_str(), state_of(&g).c_str()));
            }
        }
        fail(GM_EMU_E_INTERNAL, "scheduler stalled with an unresolved warp primitive");
    }
    // every live thread waits at a barrier
    Fiber* first = nullptr;
    for (int i = 0; i < n; ++i) {
        if (g_fibers[i].state == AT_BARRIER) { first = &g_fibers[i]; break; }
    }
    if (!first) return;
    if (exited > 0) {
        fail(GM_EMU_E_DEADLOCK,
             fmt("barrier divergence (a hang on the GPU) in %s: %d of %d threads wait at %s (%s:%d), but %d threads "
                 "exited without reaching it (first: thread %s). A barrier must be reached by every thread "
                 "of the block: no __syncthreads() inside a branch that not all threads take, no early return "
                 "before one.",
                 block_name().c_str(), at_bar, n, barrier_name(first->bar_kind), base_name(first->bar_file),
                 first->bar_line, exited, tname(first_exited).c_str()));
    }
    // all at the same call site?
    struct Site { const char* file; int line; int kind; int count; Fiber* f; };
    std::vector<Site> sites;
    for (int i = 0; i < n; ++i) {
        Fiber& f = g_fibers[i];
        bool found = false;
        for (Site& s : sites) {
            if (s.line == f.bar_line && s.kind == f.bar_kind && strcmp(s.file, f.bar_file) == 0) {
                ++s.count;
                found = true;
                break;
            }
        }
        if (!found) sites.push_back(Site{f.bar_file, f.bar_line, f.bar_kind, 1, &f});
    }
    if (sites.size() > 1) {
        std::string list;
        for (size_t k = 0; k < sites.size() && k < 4; ++k) {
            list += fmt("%s%s at %s:%d (%d threads, e.g. thread %s)", k ? "; " : "", barrier_name(sites[k].kind),
                        base_name(sites[k].file), sites[k].line, sites[k].count, tname(sites[k].f).c_str());
        }
        fail(GM_EMU_E_DEADLOCK,
             fmt("barrier divergence in %s: threads wait at different barriers: %s. __syncthreads() inside a "
                 "divergent branch is undefined behaviour on the GPU.",
                 block_name().c_str(), list.c_str()));
    }
    int count = 0;
    for (int i = 0; i < n; ++i) count += g_fibers[i].bar_pred;
    int result = 0;
    switch (first->bar_kind) {
        case 1: result = count; break;
        case 2: result = count == n; break;
        case 3: result = count > 0; break;
        default: break;
    }
    for (int i = 0; i < n; ++i) {
        g_fibers[i].bar_result = result;
        g_fibers[i].state = RUNNABLE;
    }
}

void poison_shared() {
    const gm_emu_config* c = g_cfg;
    if (c->static_shared_begin && c->static_shared_end > c->static_shared_begin) {
        memset(c->static_shared_begin, kPoison, c->static_shared_end - c->static_shared_begin);
    }
    if (c->shared_bytes > 0) memset(g_dyn, kPoison, (size_t)c->shared_bytes);
}

void run_block(unsigned int bx, unsigned int by, unsigned int bz) {
    gm_emu_blockIdx = uint3{bx, by, bz};
    poison_shared();
    const unsigned int Bx = gm_emu_blockDim.x, By = gm_emu_blockDim.y;
    const int n = g_nthreads;
    const size_t slot = g_stack_bytes + g_page;
    for (int i = 0; i < n; ++i) {
        Fiber& f = g_fibers[i];
        f.linear = i;
        f.pub.tid = uint3{i % Bx, (i / Bx) % By, i / (Bx * By)};
        f.state = RUNNABLE;
        f.bar_result = 0;
        f.stack = g_stacks + i * slot + g_page;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = g_stack_bytes;
        f.ctx.uc_link = &g_sched_ctx;
        makecontext(&f.ctx, fiber_entry, 0);
    }
    const bool rev = g_cfg->reverse != 0;
    for (;;) {
        bool ran = false;
        for (int k = 0; k < n; ++k) {
            Fiber& f = g_fibers[rev ? n - 1 - k : k];
            if (f.state != RUNNABLE) continue;
            ran = true;
            g_fiber = &f;
            gm_emu_cur = &f.pub;
            g_in_fiber = 1;
            swapcontext(&g_sched_ctx, &f.ctx);
            g_in_fiber = 0;
            if (g_timed_out) siglongjmp(g_jmp, GM_EMU_E_TIMEOUT);
        }
        if (ran) continue;
        bool all_exited = true;
        for (int i = 0; i < n; ++i) {
            if (g_fibers[i].state != EXITED) { all_exited = false; break; }
        }
        if (all_exited) return;
        release_or_fail_barrier();
    }
}

// ------------------------------------------------------------------------------------
// Signals
void chain(struct sigaction* old, int sig, siginfo_t* si, void* uc) {
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, si, uc);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
        old->sa_handler(sig);
    } else {
        signal(sig, SIG_DFL);  // the fault repeats and ends the process as it would have
    }
}

void on_fault(int sig, siginfo_t* si, void* uc) {
    if (!g_active || !pthread_equal(pthread_self(), g_thread)) {
        chain(sig == SIGSEGV ? &g_old_segv : sig == SIGBUS ? &g_old_bus : &g_old_fpe, sig, si, uc);
        return;
    }
    g_fault_sig = sig;
    g_fault_addr = si->si_addr;
    g_fault_in_fiber = g_in_fiber;
#if defined(__x86_64__)
    g_fault_write = (static_cast<ucontext_t*>(uc)->uc_mcontext.gregs[REG_ERR] & 2) ? 1 : 0;
    if (sig != SIGSEGV) g_fault_write = -1;
#else
    g_fault_write = -1;
#endif
    g_active = 0;
    siglongjmp(g_jmp, GM_EMU_E_MEMORY);
}

void on_timeout(int, siginfo_t*, void*) {
    if (g_active && g_in_fiber && pthread_equal(pthread_self(), g_thread)) {
        g_active = 0;
        siglongjmp(g_jmp, GM_EMU_E_TIMEOUT);
    }
    // not inside a fiber: the scheduler sees g_timed_out after the next switch
}

void install_handlers(stack_t* old_alt) {
    stack_t ss;
    ss.ss_sp = g_altstack;
    ss.ss_size = sizeof g_altstack;
    ss.ss_flags = 0;
    sigaltstack(&ss, old_alt);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
    sigaction(SIGFPE, &sa, &g_old_fpe);
    sa.sa_sigaction = on_timeout;
    g_timeout_sig = SIGRTMIN + 3;
    sigaction(g_timeout_sig, &sa, &g_old_timeout);
}

void restore_handlers(const stack_t* old_alt) {
    sigaction(SIGSEGV, &g_old_segv, nullptr);
    sigaction(SIGBUS, &g_old_bus, nullptr);
    sigaction(SIGFPE, &g_old_fpe, nullptr);
    sigaction(g_timeout_sig, &g_old_timeout, nullptr);
    if (old_alt->ss_flags & SS_DISABLE) {
        stack_t off;
        memset(&off, 0, sizeof off);
        off.ss_flags = SS_DISABLE;
        sigaltstack(&off, nullptr);
    } else {
        sigaltstack(old_alt, nullptr);
    }
}

uintptr_t page_floor(uintptr_t a) { return a & ~(uintptr_t)(g_page - 1); }
uintptr_t page_ceil(uintptr_t a) { return page_floor(a + g_page - 1); }

long long floor_div(long long a, long long b) {
    long long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::string describe_fault() {
    const uintptr_t a = (uintptr_t)g_fault_addr;
    const char* rw = g_fault_write == 1 ? "write" : g_fault_write == 0 ? "read" : "access";
    Fiber* f = g_fault_in_fiber ? (Fiber*)g_fiber : nullptr;
    std::string who = where(f);
    if (g_fault_sig == SIGFPE) {
        return fmt("arithmetic exception (SIGFPE: integer division by zero or overflow) in %s", who.c_str());
    }
    for (int i = 0; i < g_cfg->nbuf; ++i) {
        const gm_emu_buffer& b = g_cfg->bufs[i];
        uintptr_t d = (uintptr_t)b.data;
        uintptr_t lo = page_floor(d) - g_page, hi = page_ceil(d + b.nbytes) + g_page;
        if (a < lo || a >= hi) continue;
        long long n = b.itemsize ? b.nbytes / b.itemsize : 0;
        long long idx = floor_div((long long)(a - d), b.itemsize ? b.itemsize : 1);
        if (a >= d && a < d + (uintptr_t)b.nbytes) {
            return fmt("write to read-only %s at element index %lld, by %s (the kernel declares it const)",
                       b.label, idx, who.c_str());
        }
        return fmt("out-of-bounds %s of %s at element index %lld (valid: 0..%lld), by %s", rw, b.label, idx,
                   n - 1, who.c_str());
    }
    if (g_dyn_map && a >= (uintptr_t)g_dyn_map && a < (uintptr_t)g_dyn_map + g_dyn_map_len) {
        return fmt("out-of-bounds %s of dynamic shared memory at byte offset %lld (the launch has "
                   "shared_bytes=%lld), by %s",
                   rw, (long long)(a - (uintptr_t)g_dyn), (long long)g_cfg->shared_bytes, who.c_str());
    }
    if (g_stacks && a >= (uintptr_t)g_stacks && a < (uintptr_t)g_stacks + g_stack_slots * (g_stack_bytes + g_page)) {
        size_t off = (a - (uintptr_t)g_stacks) % (g_stack_bytes + g_page);
        if (off < g_page) {
            return fmt("stack overflow in %s (the emulator gives each thread %zu KiB; set GM_EMU_STACK_KIB)",
                       who.c_str(), g_stack_bytes / 1024);
        }
    }
    std::string m = fmt("invalid memory %s at address %p, outside every argument buffer, by %s", rw,
                        g_fault_addr, who.c_str());
    if (a < 65536) m += " (a null pointer, or a misaligned vector access)";
    if (!g_fault_in_fiber) m = "internal error in the emulator: " + m;
    return m;
}

// Canary check of the slack bytes between each buffer's data and its guard pages.
bool check_canaries(std::string* msg) {
    for (int i = 0; i < g_cfg->nbuf; ++i) {
        const gm_emu_buffer& b = g_cfg->bufs[i];
        const unsigned char* d = (const unsigned char*)b.data;
        const unsigned char* lo = (const unsigned char*)page_floor((uintptr_t)d);
        const unsigned char* hi = (const unsigned char*)page_ceil((uintptr_t)(d + b.nbytes));
        long long n = b.itemsize ? b.nbytes / b.itemsize : 0;
        for (const unsigned char* p = lo; p < d; ++p) {
            if (*p != kCanary) {
                *msg = fmt("out-of-bounds write to %s at element index %lld (valid: 0..%lld), found after the "
                           "launch (a canary before the buffer changed; the thread is unknown)",
                           b.label, floor_div((long long)(p - d), b.itemsize), n - 1);
                return false;
            }
        }
        for (const unsigned char* p = d + b.nbytes; p < hi; ++p) {
            if (*p != kCanary) {
                *msg = fmt("out-of-bounds write to %s at element index %lld (valid: 0..%lld), found after the "
                           "launch (a canary after the buffer changed; the thread is unknown)",
                           b.label, (long long)((p - d) / b.itemsize), n - 1);
                return false;
            }
        }
    }
    return true;
}

bool setup_dynamic_shared(long long bytes) {
    size_t need = ((size_t)bytes + 15) & ~(size_t)15;
    size_t pages = (need + g_page - 1) / g_page;
    size_t len = (pages + 1) * g_page;
    if (len > g_dyn_map_len) {
        if (g_dyn_map) munmap(g_dyn_map, g_dyn_map_len);
        void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            g_dyn_map = nullptr;
            g_dyn_map_len = 0;
            return false;
        }
        g_dyn_map = static_cast<char*>(p);
        g_dyn_map_len = len;
    }
    mprotect(g_dyn_map, g_dyn_map_len, PROT_READ | PROT_WRITE);
    char* end = g_dyn_map + g_dyn_map_len - g_page;
    mprotect(end, g_page, PROT_NONE);
    g_dyn = end - need;
    return true;
}

}  // namespace

// ------------------------------------------------------------------------------------
// Device-side API
GM_EMU_API int gm_emu_barrier(int kind, int pred, const char* file, int line) {
    Fiber* f = g_fiber;
    f->state = AT_BARRIER;
    f->bar_kind = kind;
    f->bar_pred = pred ? 1 : 0;
    f->bar_file = file;
    f->bar_line = line;
    yield_fiber(f);
    return f->bar_result;
}

GM_EMU_API unsigned int gm_emu_activemask(void) {
    Fiber* f = g_fiber;
    int base = (f->linear / 32) * 32;
    unsigned int m = 0;
    for (int l = 0; l < 32 && base + l < g_nthreads; ++l) {
        if (g_fibers[base + l].state != EXITED) m |= 1u << l;
    }
    return m;
}

GM_EMU_API void* gm_emu_dynamic_shared(void) { return g_dyn; }

GM_EMU_API void gm_emu_trap(const char* what, const char* file, int line) {
    fail(GM_EMU_E_TRAP, fmt("%s at %s:%d in %s", what, base_name(file), line, where(g_fiber).c_str()));
}

GM_EMU_API unsigned int gm_emu_warp(int op, unsigned int mask, const void* in, void* out, int size, int param,
                                    int width, const char* file, int line) {
    Fiber* f = g_fiber;
    const int lane = f->linear % 32;
    const int base = f->linear - lane;
    const int nl = g_nthreads - base < 32 ? g_nthreads - base : 32;
    const unsigned int exist = nl == 32 ? 0xffffffffu : ((1u << nl) - 1u);
    if (!((mask >> lane) & 1u)) {
        fail(GM_EMU_E_WARP, fmt("%s at %s:%d: mask 0x%08x does not name the calling lane %d (%s)", warp_name(op),
                                base_name(file), line, mask, lane, where(f).c_str()));
    }
    if (op >= GM_EMU_W_IDX && op <= GM_EMU_W_XOR && (width <= 0 || width > 32 || (width & (width - 1)))) {
        fail(GM_EMU_E_WARP, fmt("%s at %s:%d: width %d is not a power of two in 1..32 (%s)", warp_name(op),
                                base_name(file), line, width, where(f).c_str()));
    }
    f->w_op = op;
    f->w_mask = mask;
    f->w_size = size;
    f->w_param = param;
    f->w_width = width;
    f->w_file = file;
    f->w_line = line;
    if (in && size > 0) memcpy(f->w_in, in, size);
    f->state = AT_WARP;
    const unsigned int need = mask & exist;
    bool complete = true;
    for (int l = 0; l < nl; ++l) {
        if (!((need >> l) & 1u)) continue;
        Fiber& g = g_fibers[base + l];
        if (g.state == EXITED) {
            fail(GM_EMU_E_DEADLOCK,
                 fmt("deadlock: %s at %s:%d in %s names lane %d in mask 0x%08x, but that lane (thread %s) has "
                     "exited",
                     warp_name(op), base_name(file), line, where(f).c_str(), l, mask, tname(&g).c_str()));
        }
        if (g.state != AT_WARP) complete = false;
    }
    if (!complete) {
        yield_fiber(f);
    } else {
        // every lane has arrived: check they agree, then compute all results at once
        for (int l = 0; l < nl; ++l) {
            if (!((need >> l) & 1u)) continue;
            Fiber& g = g_fibers[base + l];
            if (g.w_op != op || g.w_mask != mask || g.w_size != size) {
                fail(GM_EMU_E_WARP,
                     fmt("warp divergence in %s, warp %d: lane %d is in %s (%s:%d, mask 0x%08x) while lane %d is in "
                         "%s (%s:%d, mask 0x%08x); all lanes of a mask must execute the same primitive with the "
                         "same mask",
                         block_name().c_str(), base / 32, lane, warp_name(op), base_name(file), line, mask, l,
                         warp_name(g.w_op), base_name(g.w_file), g.w_line, g.w_mask));
            }
        }
        unsigned int vote = 0;
        int all = 1;
        for (int l = 0; l < nl; ++l) {
            if (!((need >> l) & 1u)) continue;
            if (g_fibers[base + l].w_param) vote |= 1u << l;
            else all = 0;
        }
        unsigned long long acc = 0;
        if (op >= GM_EMU_W_RED_ADD) {
            bool firstv = true;
            for (int l = 0; l < nl; ++l) {
                if (!((need >> l) & 1u)) continue;
                unsigned int u;
                memcpy(&u, g_fibers[base + l].w_in, 4);
                int s = (int)u;
                if (firstv) { acc = u; firstv = false; continue; }
                unsigned int a = (unsigned int)acc;
                switch (op) {
                    case GM_EMU_W_RED_ADD: a += u; break;
                    case GM_EMU_W_RED_MIN_S: a = (unsigned int)((int)a < s ? (int)a : s); break;
                    case GM_EMU_W_RED_MAX_S: a = (unsigned int)((int)a > s ? (int)a : s); break;
                    case GM_EMU_W_RED_MIN_U: a = a < u ? a : u; break;
                    case GM_EMU_W_RED_MAX_U: a = a > u ? a : u; break;
                    case GM_EMU_W_RED_AND: a &= u; break;
                    case GM_EMU_W_RED_OR: a |= u; break;
                    case GM_EMU_W_RED_XOR: a ^= u; break;
                }
                acc = a;
            }
        }
        for (int l = 0; l < nl; ++l) {
            if (!((need >> l) & 1u)) continue;
            Fiber& g = g_fibers[base + l];
            const int w = g.w_width, seg = l & ~(w - 1);
            int src = l;
            bool shuffle = true;
            switch (op) {
                case GM_EMU_W_IDX: src = seg + (int)((unsigned int)g.w_param % (unsigned int)w); break;
                case GM_EMU_W_UP: src = ((l & (w - 1)) < g.w_param) ? l : l - g.w_param; break;
                case GM_EMU_W_DOWN: src = ((l & (w - 1)) + g.w_param >= w) ? l : l + g.w_param; break;
                case GM_EMU_W_XOR: {
                    int s = l ^ g.w_param;
                    src = (s < 0 || s >= 32 || (s & ~(w - 1)) > seg) ? l : s;
                    break;
                }
                default: shuffle = false; break;
            }
            if (shuffle) {
                if (src >= 0 && src < 32 && ((need >> src) & 1u)) {
                    memcpy(g.w_out, g_fibers[base + src].w_in, size);
                } else {
                    memset(g.w_out, kPoison, size);  // undefined on the GPU: a lane outside the mask
                }
            }
            switch (op) {
                case GM_EMU_W_BALLOT: g.w_ret = vote; break;
                case GM_EMU_W_ANY: g.w_ret = vote != 0; break;
                case GM_EMU_W_ALL: g.w_ret = all; break;
                case GM_EMU_W_MATCH_ANY: {
                    unsigned int m = 0;
                    for (int k = 0; k < nl; ++k) {
                        if (((need >> k) & 1u) && memcmp(g_fibers[base + k].w_in, g.w_in, size) == 0) m |= 1u << k;
                    }
                    g.w_ret = m;
                    break;
                }
                default:
                    if (op >= GM_EMU_W_RED_ADD) {
                        unsigned int a = (unsigned int)acc;
                        memcpy(g.w_out, &a, 4);
                    }
                    g.w_ret = 0;
                    break;
            }
            g.state = RUNNABLE;
        }
    }
    if (out && size > 0) memcpy(out, f->w_out, size);
    return f->w_ret;
}

// ------------------------------------------------------------------------------------
// Buffers
GM_EMU_API char* gm_emu_alloc(long long nbytes, int place_at_start, char** map_base, long long* map_len) {
    if (g_page == 0) g_page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = ((size_t)nbytes + g_page - 1) / g_page;
    size_t len = (pages + 2) * g_page;
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    char* base = static_cast<char*>(p);
    mprotect(base, g_page, PROT_NONE);
    mprotect(base + (pages + 1) * g_page, g_page, PROT_NONE);
    memset(base + g_page, kCanary, pages * g_page);
    *map_base = base;
    *map_len = (long long)len;
    return place_at_start ? base + g_page : base + (pages + 1) * g_page - nbytes;
}

GM_EMU_API int gm_emu_protect(char* map_base, long long map_len, int readonly) {
    return mprotect(map_base + g_page, (size_t)map_len - 2 * g_page, readonly ? PROT_READ : PROT_READ | PROT_WRITE);
}

GM_EMU_API void gm_emu_free(char* map_base, long long map_len) { munmap(map_base, (size_t)map_len); }

// ------------------------------------------------------------------------------------
// Launch
GM_EMU_API int gm_emu_run(gm_emu_config* cfg, void (*body)(void*), void* ctx, gm_emu_result* res) {
    std::lock_guard<std::mutex> lock(g_launch_mutex);
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    if (g_stack_bytes == 0) {
        const char* e = getenv("GM_EMU_STACK_KIB");
        long kib = e ? atol(e) : 0;
        g_stack_bytes = (size_t)(kib > 0 ? kib : 256) * 1024;
        g_stack_bytes = (g_stack_bytes + g_page - 1) & ~(g_page - 1);
    }
    res->code = 0;
    res->fp_atomics = 0;
    res->message[0] = 0;
    g_cfg = cfg;
    g_error.clear();
    auto config_error = [&](const std::string& m) {
        snprintf(res->message, sizeof res->message, "%s: invalid launch configuration: %s", kernel_name(), m.c_str());
        res->code = GM_EMU_E_CONFIG;
        return res->code;
    };
    const unsigned int* B = cfg->block;
    const unsigned int* G = cfg->grid;
    unsigned long long nthreads = (unsigned long long)B[0] * B[1] * B[2];
    if (B[0] == 0 || B[1] == 0 || B[2] == 0 || G[0] == 0 || G[1] == 0 || G[2] == 0)
        return config_error(fmt("grid (%u,%u,%u) and block (%u,%u,%u) must be positive", G[0], G[1], G[2], B[0], B[1], B[2]));
    if (nthreads > 1024 || B[0] > 1024 || B[1] > 1024 || B[2] > 64)
        return config_error(fmt("block (%u,%u,%u) exceeds the limits (1024 threads; x, y <= 1024; z <= 64)", B[0], B[1], B[2]));
    if (G[0] > 2147483647u || G[1] > 65535 || G[2] > 65535)
        return config_error(fmt("grid (%u,%u,%u) exceeds the limits (x < 2**31, y and z <= 65535)", G[0], G[1], G[2]));
    if (cfg->shared_bytes < 0 || cfg->shared_bytes > cfg->max_shared_bytes)
        return config_error(fmt("dynamic shared memory of %lld bytes exceeds the limit of %lld", cfg->shared_bytes,
                                cfg->max_shared_bytes));
    g_nthreads = (int)nthreads;
    ensure_stacks(g_nthreads);
    if (!g_stacks || g_fibers.size() < nthreads) g_fibers.resize(nthreads);
    if (!g_stacks || !setup_dynamic_shared(cfg->shared_bytes)) {
        snprintf(res->message, sizeof res->message, "%s: out of memory for fiber stacks", kernel_name());
        res->code = GM_EMU_E_INTERNAL;
        return res->code;
    }
    gm_emu_blockDim = dim3(B[0], B[1], B[2]);
    gm_emu_gridDim = dim3(G[0], G[1], G[2]);
    gm_emu_fp_atomics = 0;
    g_body = body;
    g_body_ctx = ctx;
    g_thread = pthread_self();
    g_timed_out = 0;
    g_fault_sig = 0;
    g_fiber = nullptr;
    gm_emu_cur = nullptr;

    // watchdog
    std::mutex wd_m;
    std::condition_variable wd_cv;
    bool wd_done = false;
    const double timeout = cfg->timeout_s > 0 ? cfg->timeout_s : 60.0;
    const pthread_t target = g_thread;
    stack_t old_alt;
    install_handlers(&old_alt);
    std::thread watchdog([&] {
        std::unique_lock<std::mutex> lk(wd_m);
        if (wd_cv.wait_for(lk, std::chrono::duration<double>(timeout), [&] { return wd_done; })) return;
        g_timed_out = 1;
        do {
            pthread_kill(target, g_timeout_sig);
        } while (!wd_cv.wait_for(lk, std::chrono::milliseconds(50), [&] { return wd_done; }));
    });

    const bool rev = cfg->reverse != 0;
    const unsigned long long nblocks = (unsigned long long)G[0] * G[1] * G[2];
    volatile unsigned long long b = 0;
    int code = sigsetjmp(g_jmp, 1);
    if (code == 0) {
        g_active = 1;
        for (b = 0; b < nblocks; b = b + 1) {
            unsigned long long lb = rev ? nblocks - 1 - b : b;
            run_block((unsigned int)(lb % G[0]), (unsigned int)((lb / G[0]) % G[1]), (unsigned int)(lb / ((unsigned long long)G[0] * G[1])));
        }
    }
    g_active = 0;
    g_in_fiber = 0;
    {
        std::lock_guard<std::mutex> lk(wd_m);
        wd_done = true;
    }
    wd_cv.notify_all();
    watchdog.join();
    restore_handlers(&old_alt);

    std::string msg;
    if (code == GM_EMU_E_MEMORY) {
        msg = std::string(kernel_name()) + ": " + describe_fault();
        if (msg.find("out-of-bounds") != std::string::npos || msg.find("read-only") != std::string::npos)
            code = GM_EMU_E_BOUNDS;
    } else if (code == GM_EMU_E_TIMEOUT) {
        msg = fmt("%s: the launch did not finish within %.3g s (an infinite loop? a thread spinning on a value "
                  "no other thread will write?); it was in %s",
                  kernel_name(), timeout, where(g_fiber).c_str());
    } else if (code != 0) {
        msg = g_error;
    } else if (!check_canaries(&msg)) {
        code = GM_EMU_E_BOUNDS;
        msg = std::string(kernel_name()) + ": " + msg;
    }
    res->code = code;
    res->fp_atomics = gm_emu_fp_atomics;
    snprintf(res->message, sizeof res->message, "%s", msg.c_str());
    g_cfg = nullptr;
    gm_emu_cur = nullptr;
    return code;
}
