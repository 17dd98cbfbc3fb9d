"""Self-tests of the kernel emulation lane (tests/cuda_emu): it runs correct kernels right and
fails planted bugs with a clear message, without hanging or crashing the test process."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/, package or not

from cuda_emu import (  # noqa: E402
    EmuCompileError,
    EmuDeadlockError,
    EmuError,
    EmuLaunchError,
    EmuMemoryError,
    EmuOutOfBoundsError,
    EmuRaceError,
    EmuTimeoutError,
    EmuWarpError,
    emu_launch,
    kernels_in,
)
from cuda_emu.runner import CXX, kernel_signatures  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")

EMU = Path(__file__).resolve().parent / "cuda_emu"
OK = EMU / "selftest" / "ok_kernels.cu"
PLANTED = EMU / "planted"

RNG = np.random.default_rng(20240611)


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------------------------------
# Correct kernels run right


def _matmul(kernel_file, kernel, M, N, K, **kw):
    A, B = _f32(M, K), _f32(K, N)
    C = np.full((M, N), -7.0, np.float32)
    grid = (-(-N // 8), -(-M // 8))
    emu_launch(
        kernel_file, kernel, grid, (8, 8), [A, B, C, np.int32(M), np.int32(N), np.int32(K)], **kw
    )
    return A, B, C


@pytest.mark.parametrize("M, N, K", [(1, 1, 1), (8, 8, 8), (13, 11, 19), (16, 24, 5), (3, 17, 9)])
def test_tiled_matmul_with_static_shared_memory(M, N, K):
    A, B, C = _matmul(OK, "gm_test_matmul_tiled_f32", M, N, K)
    np.testing.assert_allclose(C, A.astype(np.float64) @ B, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "n, grid, block", [(1, 1, 32), (31, 1, 32), (1000, 3, 64), (5000, 4, 128), (257, 2, 1024)]
)
def test_block_sum_with_dynamic_shared_memory_and_shuffles(n, grid, block):
    x = _f32(n)
    out = np.zeros(1, np.float32)
    emu_launch(
        OK,
        "gm_test_block_sum_f32",
        grid,
        block,
        [x, out, np.int64(n)],
        shared_bytes=4 * (block // 32),
    )
    np.testing.assert_allclose(out[0], x.astype(np.float64).sum(), rtol=1e-4, atol=1e-4)


def test_warp_primitives_are_warp_synchronous():
    nt = 64
    x = RNG.integers(-50, 50, nt).astype(np.int32)
    out = np.zeros((nt, 12), np.int32)
    emu_launch(OK, "gm_test_warp_ops", 1, nt, [x, out])
    lane = np.arange(nt) % 32
    base = np.arange(nt) - lane
    w = x.reshape(-1, 32)

    def at(src):
        return x[base + src]

    np.testing.assert_array_equal(out[:, 0], at((lane & ~7) + 3))  # idx, width 8
    np.testing.assert_array_equal(out[:, 1], np.where(lane < 1, x, at(lane - 1)))  # up 1
    down = np.where((lane & 15) + 2 >= 16, lane, lane + 2)  # down 2, width 16
    np.testing.assert_array_equal(out[:, 2], at(down))
    np.testing.assert_array_equal(out[:, 3], at(lane ^ 5))  # xor 5
    ballot = np.array([sum(1 << i for i in range(32) if v[i] > 0) for v in w], np.uint32)
    np.testing.assert_array_equal(out[:, 4].view(np.uint32), np.repeat(ballot, 32))
    np.testing.assert_array_equal(out[:, 5], np.repeat((w > 100).any(1), 32).astype(np.int32))
    np.testing.assert_array_equal(out[:, 6], np.repeat((w > -100).all(1), 32).astype(np.int32))
    match = [sum(1 << j for j in range(32) if (w[t // 32][j] & 3) == (x[t] & 3)) for t in range(nt)]
    np.testing.assert_array_equal(out[:, 7].view(np.uint32), np.array(match, np.uint32))
    np.testing.assert_array_equal(out[:, 8], np.repeat(w.sum(1), 32))
    np.testing.assert_array_equal(out[:, 9], np.full(nt, (x > 0).sum()))  # __syncthreads_count
    np.testing.assert_array_equal(out[:, 10], at(31))  # double shuffle
    half = np.where(lane < 16, lane ^ 1, lane ^ 2)  # two half-warp masks
    np.testing.assert_array_equal(out[:, 11], at(half))


def test_three_dimensional_grid_and_block():
    grid, block = (2, 3, 2), (4, 2, 3)
    nb, nt = 12, 24
    out = np.full((nb * nt, 8), -1, np.int32)
    emu_launch(OK, "gm_test_indices", grid, block, [out])
    t = np.arange(nt)
    b = np.arange(nb)
    tid = np.stack([t % 4, (t // 4) % 2, t // 8], 1)
    bid = np.stack([b % 2, (b // 2) % 3, b // 6], 1)
    expect = np.concatenate(
        [
            np.tile(tid, (nb, 1)),
            np.repeat(bid, nt, 0),
            np.full((nb * nt, 1), 4),
            np.full((nb * nt, 1), 2),
        ],
        1,
    )
    np.testing.assert_array_equal(out, expect)


def test_integer_atomics_on_shared_and_global_memory():
    x = RNG.integers(0, 1000, 3001).astype(np.int32)
    hist = np.zeros(10, np.uint32)
    emu_launch(OK, "gm_test_histogram", 3, 96, [x, hist, np.int64(x.size), np.int32(10)])
    np.testing.assert_array_equal(hist, np.bincount(x % 10, minlength=10))


# ------------------------------------------------------------------------------------------
# Planted bugs fail with clear messages


@pytest.mark.parametrize(
    "kernel", ["gm_planted_matmul_no_sync_after_load", "gm_planted_matmul_no_sync_after_compute"]
)
def test_missing_syncthreads_in_a_tiled_kernel_is_a_race(kernel):
    with pytest.raises(EmuRaceError) as e:
        _matmul(PLANTED / "missing_sync.cu", kernel, 13, 11, 19)
    msg = str(e.value)
    assert msg.startswith(kernel + ": data race")
    assert "argument #2 `C`" in msg and "missing __syncthreads()" in msg


def test_missing_syncthreads_also_gives_wrong_results():
    # Even without the race check, the deterministic schedule and the poisoned shared memory
    # make the planted kernels disagree with NumPy: thread 0 reads tile entries nobody wrote.
    for kernel in [
        "gm_planted_matmul_no_sync_after_load",
        "gm_planted_matmul_no_sync_after_compute",
    ]:
        A, B, C = _matmul(PLANTED / "missing_sync.cu", kernel, 13, 11, 19, race_check=False)
        assert not np.allclose(C, A.astype(np.float64) @ B, rtol=1e-4, atol=1e-4, equal_nan=False)


def test_missing_syncthreads_in_a_shared_memory_exchange():
    x = np.arange(512, dtype=np.float32)
    with pytest.raises(EmuRaceError, match="gm_planted_block_reverse_no_sync: data race"):
        emu_launch(
            PLANTED / "missing_sync.cu",
            "gm_planted_block_reverse_no_sync",
            2,
            256,
            [x, np.zeros_like(x)],
        )


def test_two_threads_writing_one_element_is_a_race():
    with pytest.raises(EmuRaceError, match="`out`"):
        emu_launch(
            PLANTED / "warp_bugs.cu", "gm_planted_write_conflict", 1, 64, [np.zeros(1, np.int32)]
        )


def test_off_by_one_bound_names_kernel_argument_and_index():
    x, out = _f32(100), np.zeros(100, np.float32)
    with pytest.raises(EmuOutOfBoundsError) as e:
        emu_launch(
            PLANTED / "off_by_one.cu",
            "gm_planted_scale_off_by_one",
            2,
            64,
            [x, out, np.float32(2), np.int64(100)],
        )
    msg = str(e.value)
    assert msg.startswith("gm_planted_scale_off_by_one: out-of-bounds read of argument #0 `x`")
    assert "element index 100 (valid: 0..99)" in msg and "thread (36,0,0) of block (1,0,0)" in msg


@pytest.mark.parametrize("n", [1, 7, 1024])
def test_stencil_reading_past_the_right_edge(n):
    with pytest.raises(EmuOutOfBoundsError, match=rf"argument #0 `x` .* element index {n} "):
        emu_launch(
            PLANTED / "off_by_one.cu",
            "gm_planted_stencil_right_edge",
            -(-n // 64),
            64,
            [_f32(n), np.zeros(n, np.float32), np.int64(n)],
        )


@pytest.mark.parametrize("guard, how", [("end", "write of"), ("start", "canary after")])
def test_write_past_the_end_with_either_guard_placement(guard, how):
    out = np.zeros(100, np.float32)
    with pytest.raises(EmuOutOfBoundsError) as e:
        emu_launch(
            PLANTED / "off_by_one.cu",
            "gm_planted_fill_off_by_one",
            2,
            64,
            [out, np.float32(1), np.int64(100)],
            guard=guard,
        )
    assert "argument #0 `out`" in str(e.value) and "element index 100" in str(e.value)
    assert how in str(e.value)


def test_write_through_a_const_argument():
    with pytest.raises(EmuOutOfBoundsError, match="write to read-only argument #0 `x`"):
        emu_launch(
            PLANTED / "off_by_one.cu", "gm_planted_write_const", 1, 32, [_f32(10), np.int64(10)]
        )


def test_dynamic_shared_memory_is_bounds_checked():
    with pytest.raises(EmuOutOfBoundsError, match="dynamic shared memory at byte offset 256"):
        emu_launch(
            PLANTED / "off_by_one.cu",
            "gm_planted_shared_off_by_one",
            1,
            64,
            [np.zeros(64, np.float32)],
            shared_bytes=256,
        )


def test_barrier_inside_a_divergent_branch_fails_fast_instead_of_hanging():
    t0 = time.perf_counter()
    with pytest.raises(EmuDeadlockError) as e:
        emu_launch(
            PLANTED / "divergent_barrier.cu",
            "gm_planted_barrier_in_branch",
            1,
            64,
            [_f32(64), np.zeros(64, np.float32)],
            timeout=30,
        )
    assert time.perf_counter() - t0 < 5  # found exactly, not by the timeout
    msg = str(e.value)
    assert msg.startswith("gm_planted_barrier_in_branch: barrier divergence")
    assert "32 of 64 threads wait at __syncthreads() (divergent_barrier.cu:11)" in msg
    assert "32 threads exited without reaching it" in msg


def test_different_barriers_in_two_branches():
    with pytest.raises(EmuDeadlockError, match="threads wait at different barriers") as e:
        emu_launch(
            PLANTED / "divergent_barrier.cu",
            "gm_planted_barrier_two_sites",
            1,
            64,
            [_f32(64), np.zeros(64, np.float32)],
        )
    assert "divergent_barrier.cu:22" in str(e.value) and "divergent_barrier.cu:25" in str(e.value)


def test_early_return_before_a_barrier_in_a_ragged_block():
    n = 100  # the second block of 64 has 28 threads past the end
    with pytest.raises(EmuDeadlockError, match=r"block \(1,0,0\): 36 of 64 threads"):
        emu_launch(
            PLANTED / "divergent_barrier.cu",
            "gm_planted_early_return",
            2,
            64,
            [_f32(n), np.zeros(n, np.float32), np.int64(n)],
        )
    # with a size that fills every block, the same kernel is fine
    x = _f32(128)
    out = np.zeros(128, np.float32)
    emu_launch(
        PLANTED / "divergent_barrier.cu", "gm_planted_early_return", 2, 64, [x, out, np.int64(128)]
    )
    np.testing.assert_array_equal(out, 2 * x)


def test_shuffle_naming_an_exited_lane_is_a_deadlock():
    with pytest.raises(EmuDeadlockError, match=r"__shfl_down_sync .* lane 16 .* has exited"):
        emu_launch(
            PLANTED / "warp_bugs.cu",
            "gm_planted_shuffle_after_exit",
            1,
            32,
            [_f32(32), np.zeros(32, np.float32)],
        )


def test_mask_without_the_calling_lane():
    with pytest.raises(EmuWarpError, match="does not name the calling lane"):
        emu_launch(
            PLANTED / "warp_bugs.cu",
            "gm_planted_mask_without_self",
            1,
            32,
            [np.arange(32, dtype=np.int32), np.zeros(32, np.int32)],
        )


def test_endless_kernel_times_out():
    t0 = time.perf_counter()
    with pytest.raises(EmuTimeoutError, match=r"did not finish within 0.3 s.*thread \(0,0,0\)"):
        emu_launch(
            PLANTED / "warp_bugs.cu",
            "gm_planted_spin_forever",
            1,
            32,
            [np.zeros(1, np.int32)],
            timeout=0.3,
        )
    assert time.perf_counter() - t0 < 5


def test_integer_division_by_zero_is_reported():
    with pytest.raises(EmuMemoryError, match="SIGFPE"):
        emu_launch(
            PLANTED / "warp_bugs.cu",
            "gm_planted_int_div_zero",
            1,
            32,
            [np.arange(32, dtype=np.int32), np.zeros(32, np.int32), np.int32(0)],
        )


def test_the_lane_keeps_working_after_failures():
    with pytest.raises(EmuError):
        emu_launch(
            PLANTED / "off_by_one.cu",
            "gm_planted_scale_off_by_one",
            1,
            32,
            [_f32(5), np.zeros(5, np.float32), np.float32(1), np.int64(5)],
        )
    A, B, C = _matmul(OK, "gm_test_matmul_tiled_f32", 9, 9, 9)
    np.testing.assert_allclose(C, A.astype(np.float64) @ B, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------
# Arguments, configuration, sources


def test_arguments_are_checked_like_a_raw_kernel_needs_them():
    x, out = _f32(8), np.zeros(8, np.float32)
    good = [x, out, np.float32(2), np.int64(8)]
    f, k = PLANTED / "off_by_one.cu", "gm_planted_scale_off_by_one"
    cases = [
        ([x.astype(np.float64), out, np.float32(2), np.int64(8)], "needs dtype float32"),
        ([x, out, 2.0, np.int64(8)], "needs a NumPy scalar np.float32, got float"),
        ([x, out, np.float32(2), np.int32(8)], "needs a NumPy scalar np.int64, got np.int32"),
        ([np.zeros((8, 2), np.float32)[:, 0], out, np.float32(2), np.int64(8)], "C-contiguous"),
        (good[:3], "takes 4 arguments"),
    ]
    for args, message in cases:
        with pytest.raises(EmuLaunchError, match=message):
            emu_launch(f, k, 1, 32, args)
    for grid, block in [(1, 2048), (0, 32), (1, (32, 1, 65))]:
        with pytest.raises(EmuLaunchError, match="invalid launch configuration|positive"):
            emu_launch(f, k, grid, block, [x, out, np.float32(2), np.int64(7)])
    with pytest.raises(EmuLaunchError, match="shared memory"):
        emu_launch(f, k, 1, 32, [x, out, np.float32(2), np.int64(7)], shared_bytes=1 << 20)


def test_extern_shared_is_rejected_with_a_hint(tmp_path):
    src = tmp_path / "dyn.cu"
    src.write_text(
        '#include "common.cuh"\nextern "C" __global__ void gm_k(float* o) {\n'
        "    extern __shared__ float s[];\n    o[0] = s[0];\n}\n"
    )
    with pytest.raises(EmuCompileError, match="GM_DYNAMIC_SHARED"):
        emu_launch(src, "gm_k", 1, 1, [np.zeros(1, np.float32)])


def test_kernel_scanner_reads_names_and_parameters():
    src = """
    // extern "C" __global__ void gm_commented_out(int x) {}
    /* extern "C" __global__ void gm_block_comment(int x) {} */
    extern "C" __global__ void __launch_bounds__(256, 2) gm_a(const float* __restrict__ x,
                                                              float* out, gm_index_t n) {}
    extern "C" __device__ void gm_not_a_kernel(int) {}
    extern "C"
    __global__ void gm_b(const float2* __restrict__ z, int k) {}
    """
    assert kernel_signatures(src) == {"gm_a": ["x", "out", "n"], "gm_b": ["z", "k"]}
    assert kernels_in(OK) == [
        "gm_test_matmul_tiled_f32",
        "gm_test_block_sum_f32",
        "gm_test_warp_ops",
        "gm_test_indices",
        "gm_test_histogram",
    ]
