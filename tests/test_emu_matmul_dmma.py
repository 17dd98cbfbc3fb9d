"""The float64 tensor-core GEMM (kernels/matmul_dmma.cu, WMMA double m8n8k4) in the emulation
lane against NumPy float64; planted WMMA bugs the lane's <mma.h> must catch; and, on a GPU,
the dispatch of ``matmul(..., algorithm="tiled")`` float64 to that kernel.

The lane is the proof of correctness on machines without a GPU: tests/cuda_emu/include/mma.h
implements the WMMA API on the host and checks its alignment and whole-warp rules.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/, package or not

from cuda_emu import EmuDeadlockError, EmuRaceError, EmuTrapError, emu_launch  # noqa: E402
from cuda_emu.coverage import covers  # noqa: E402
from cuda_emu.runner import CXX  # noqa: E402

from gpumath.testing import assert_close, rel_error  # noqa: E402

needs_cxx = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")
matmul_module = importlib.import_module("gpumath.ops.matmul")

PLANTED = Path(__file__).resolve().parent / "cuda_emu" / "planted" / "wmma_bugs.cu"
TILE_M, TILE_N = matmul_module._KERNEL_F64_DMMA[2]  # the launcher's tile: 128 x 64
TOL = 1e-12  # ||C - C_numpy|| / ||C_numpy||; float64 with K <= 40 lands near 1e-16

# (batch, M, N, K): size one; one exact tile; M, N not multiples of the tile and K not a
# multiple of the K step (8) or of the fragment depth (4); odd K or N (scalar loads, scratch
# stores); M * N not a multiple of 4 (C's batch stride breaks 32-byte alignment: scratch
# stores) and a multiple of 4 with ragged M (direct stores next to scratch ones); batches;
# more tile rows than one swizzle group (8); K = 0 (zeros).
SHAPES = [
    (1, 1, 1, 1),
    (1, 1, 9, 3),
    (1, 7, 1, 5),
    (1, 8, 8, 4),
    (1, TILE_M, TILE_N, 16),
    (1, TILE_M + 1, TILE_N + 1, 17),
    (1, 131, 130, 20),
    (1, 131, 132, 20),
    (1, 40, 66, 12),
    (2, 33, 17, 5),
    (3, 24, 70, 9),
    (1, 9 * TILE_M + 2, 10, 3),
    (1, 6, 5, 0),
]


def _launch(a, b, c, stride_a, stride_b, guard="end"):
    batch, M, N = c.shape
    K = a.shape[-1]
    tiles = -(-M // TILE_M) * -(-N // TILE_N)
    args = [a, b, c, np.int32(M), np.int32(N), np.int32(K)]
    args += [np.int64(stride_a), np.int64(stride_b), np.int64(M * N)]
    emu_launch("matmul_dmma.cu", "gm_matmul_dmma_f64", (tiles, 1, batch), 256, args, guard=guard)


@needs_cxx
@covers("gm_matmul_dmma_f64")
@pytest.mark.parametrize("guard", ["end", "start"])
@pytest.mark.parametrize("batch, M, N, K", SHAPES, ids=lambda v: str(v))
def test_dmma_kernel_matches_numpy(rng, batch, M, N, K, guard):
    # guard "end" puts each buffer's end against a guard page (its start is then only as
    # aligned as its size: scalar loads and scratch stores), "start" puts its start on a page
    # (vector loads and direct fragment stores where N is even).
    a = rng.standard_normal((batch, M, K))
    b = rng.standard_normal((batch, K, N))
    c = np.full((batch, M, N), np.nan)
    _launch(a, b, c, M * K, K * N, guard)
    expected = a @ b
    assert np.isfinite(c).all(), "an element of C was not written"
    assert rel_error(c, expected) < TOL
    np.testing.assert_allclose(c, expected, rtol=1e-10, atol=1e-13 * max(K, 1))


@needs_cxx
@covers("gm_matmul_dmma_f64")
def test_dmma_kernel_broadcast_batch_nan_and_inf(rng):
    # stride_b = 0: one B for every matrix of the batch; NaN and inf propagate like NumPy.
    batch, M, N, K = 3, 20, 36, 13
    a = rng.standard_normal((batch, M, K))
    b = rng.standard_normal((K, N))
    a[1, 4, 7] = np.nan
    a[2, 0, 0] = np.inf
    c = np.full((batch, M, N), -1.0)
    _launch(a, b, c, M * K, 0, guard="start")
    with np.errstate(invalid="ignore"):
        expected = a @ b
    np.testing.assert_array_equal(np.isnan(c), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(c), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(c[finite], expected[finite], rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------
# The lane's <mma.h> catches what a GPU punishes silently


def _planted(kernel, block=32, guard="start"):
    x = np.random.default_rng(7).standard_normal(64)
    out = np.full(64, np.nan)
    emu_launch(PLANTED, kernel, 1, block, [x, out], guard=guard)
    return x, out


@needs_cxx
def test_planted_control_kernel_is_correct():
    x, out = _planted("gm_planted_wmma_ok")
    np.testing.assert_allclose(out.reshape(8, 8), x[:32].reshape(8, 4) @ x[32:].reshape(4, 8))


@needs_cxx
@pytest.mark.parametrize(
    "kernel, message",
    [
        (
            "gm_planted_wmma_misaligned_load",
            r"load_matrix_sync: pointer 0x[0-9a-f]+ is not 32-byte",
        ),
        ("gm_planted_wmma_misaligned_store", r"store_matrix_sync: pointer 0x[0-9a-f]+ is not 32-"),
        ("gm_planted_wmma_odd_ldm", r"load_matrix_sync: ldm = 5 is not a multiple of 2 doubles"),
    ],
)
def test_wmma_alignment_rules_are_checked(kernel, message):
    with pytest.raises(EmuTrapError, match=rf"^{kernel}: wmma::{message}") as e:
        _planted(kernel)
    assert "wmma_bugs.cu:" in str(e.value)  # the call site in the kernel, not in mma.h


@needs_cxx
def test_wmma_needs_a_whole_warp():
    with pytest.raises(EmuTrapError, match="warp 0, which has only 16 lanes"):
        _planted("gm_planted_wmma_ok", block=16)


@needs_cxx
def test_wmma_called_by_half_a_warp_is_a_deadlock():
    with pytest.raises(EmuDeadlockError, match="gm_planted_wmma_half_warp: deadlock.*wmma_bugs"):
        _planted("gm_planted_wmma_half_warp")


@needs_cxx
def test_reading_other_lanes_stores_without_syncwarp_is_a_race():
    with pytest.raises(EmuRaceError, match="gm_planted_wmma_no_syncwarp: data race"):
        _planted("gm_planted_wmma_no_syncwarp")


# ------------------------------------------------------------------------------------------
# On a GPU: algorithm="tiled" float64 runs the tensor-core kernel from compute capability 8.0


def _launched_kernels(monkeypatch):
    names = []
    real = matmul_module._kernels.launch
    monkeypatch.setattr(
        matmul_module._kernels,
        "launch",
        lambda kernel, *a, **k: names.append(kernel.name) or real(kernel, *a, **k),
    )
    return names


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [((1, 1), (1, 1)), ((131, 20), (20, 130)), ((3, 40, 17), (3, 17, 66)), ((5, 9), (9,))],
    ids=str,
)
def test_gpu_tiled_float64_runs_on_tensor_cores(gpu, rng, monkeypatch, a_shape, b_shape):
    names = _launched_kernels(monkeypatch)
    a_host, b_host = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    out = matmul_module.matmul(gpu.asarray(a_host), gpu.asarray(b_host), algorithm="tiled")
    capability = matmul_module._compute_capability(gpu.cuda.Device().id)
    expected = "gm_matmul_dmma_f64" if capability >= 80 else "gm_matmul_f64"
    assert names == [expected]
    assert_close(out, a_host @ b_host, rtol=TOL, dtype=np.float64)


def test_gpu_float64_kernel_below_sm80_is_the_fma_kernel(gpu, rng, monkeypatch):
    # Pretend the GPU is a V100 (7.0): the launcher must pick kernels/matmul.cu.
    monkeypatch.setattr(matmul_module, "_compute_capability", lambda device_id: 70)
    matmul_module._float64_kernel.cache_clear()
    try:
        names = _launched_kernels(monkeypatch)
        a_host, b_host = rng.standard_normal((70, 33)), rng.standard_normal((33, 65))
        out = matmul_module.matmul(gpu.asarray(a_host), gpu.asarray(b_host), algorithm="tiled")
        assert names == ["gm_matmul_f64"]
        assert_close(out, a_host @ b_host, rtol=TOL, dtype=np.float64)
    finally:
        monkeypatch.undo()
        matmul_module._float64_kernel.cache_clear()  # the real choice for the next test


# ------------------------------------------------------------------------------------------
# Which float64 kernel the launcher picks (no GPU needed: the device queries are stubbed)


@pytest.fixture
def pick(monkeypatch):
    """``pick(capability, compiles)``: the launcher's float64 choice for a stubbed device
    whose compiler accepts kernels/matmul_dmma.cu with the options in ``compiles``."""
    tried = []

    def choose(capability, compiles):
        def get_kernel(family, name, options=()):
            tried.append(options)
            if family == "matmul_dmma" and options not in compiles:
                raise matmul_module._kernels.KernelError(f'{options}: cannot open "mma.h"')

        monkeypatch.setattr(matmul_module, "_compute_capability", lambda device_id: capability)
        monkeypatch.setattr(matmul_module._kernels, "get_kernel", get_kernel)
        monkeypatch.setattr(
            matmul_module, "_mma_include_options", lambda: [(), ("-I/cuda/include",)]
        )
        matmul_module._float64_kernel.cache_clear()
        return matmul_module._float64_kernel(0), tried

    yield choose
    matmul_module._float64_kernel.cache_clear()


def test_float64_kernel_is_dmma_from_sm80(pick):
    (family, name, tile, options), tried = pick(90, compiles=[()])
    assert (family, name, tile, options) == ("matmul_dmma", "gm_matmul_dmma_f64", (128, 64), ())
    assert tried == [()]


def test_float64_kernel_is_fma_below_sm80_without_compiling_dmma(pick):
    (family, name, tile, options), tried = pick(75, compiles=[()])
    assert (family, name, tile, options) == ("matmul", "gm_matmul_f64", (64, 64), ())
    assert tried == []


def test_float64_kernel_retries_with_the_toolkit_include_path(pick):
    (_, name, _, options), tried = pick(80, compiles=[("-I/cuda/include",)])
    assert name == "gm_matmul_dmma_f64" and options == ("-I/cuda/include",)
    assert tried == [(), ("-I/cuda/include",)]


def test_float64_kernel_falls_back_to_fma_with_a_warning(pick):
    with pytest.warns(RuntimeWarning, match=r'(?s)does not compile.*cannot open "mma.h"'):
        (_, name, _, options), _ = pick(90, compiles=[])
    assert name == "gm_matmul_f64" and options == ()


def test_mma_include_options_start_with_cupys_path():
    candidates = matmul_module._mma_include_options()
    assert candidates[0] == ()
    for (flag,) in candidates[1:]:
        assert flag.startswith("-I") and (Path(flag[2:]) / "mma.h").is_file()
