"""Every CUDA kernel in kernels/*.cu, run unchanged on the CPU in the emulation lane
(tests/cuda_emu) and compared with the NumPy path of its op.

This file holds the lane tests of clip and matmul; a new family gets its own
``tests/test_emu_<family>.py``. Adding a kernel: write a test that launches it on several shapes
(size 1, sizes that are not multiples of the block or tile, a grid smaller than the data so
grid-stride loops wrap) and compares with the op's NumPy path; decorate it with
``@covers("gm_<op>_f32", ...)``. tests/test_emu_coverage.py fails for a kernel nobody covers.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/, package or not

from cuda_emu import emu_launch, kernels_in, load  # noqa: E402
from cuda_emu.coverage import covers  # noqa: E402
from cuda_emu.runner import CXX, KERNELS_DIR  # noqa: E402

needs_cxx = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")

def grid_stride_config(n: int, block: int = 256, max_blocks: int = 3):
    """Like gpumath._kernels.elementwise_launch_config, with a small block cap so that the
    grid-stride loop wraps on the larger test sizes."""
    return (max(1, min(-(-n // block), max_blocks)),), (block,)


# ------------------------------------------------------------------------------------------
# clip.cu


def _clip_reference(x, lo, hi):
    """The NumPy path of gpumath.clip (its test oracle), or NumPy's definition of clip."""
    try:
        from gpumath.ops.clip import _clip_xp
    except ImportError:  # the lane only needs NumPy
        return np.minimum(
            np.maximum(x, -np.inf if lo is None else lo), np.inf if hi is None else hi
        )
    return _clip_xp(x, lo, hi, xp=np)


def _clip_input(n, dtype, rng):
    x = (rng.standard_normal(n) * 2).astype(dtype)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0], dtype)
    k = min(n, specials.size)
    x[rng.choice(n, k, replace=False)] = specials[:k]
    return x


CLIP_SHAPES = [  # (n, block, max_blocks): size one, ragged edges, grid-stride wrap-around
    (1, 256, 3),
    (1, 1, 1),
    (2, 32, 1),
    (31, 32, 3),
    (33, 32, 3),
    (255, 256, 3),
    (257, 256, 3),
    (1000, 128, 3),
    (4099, 256, 3),
]
CLIP_BOUNDS = [  # (lo, hi); None means an open side, passed to the kernel as -inf / +inf
    (-0.5, 0.5),
    (None, 0.25),
    (-0.25, None),
    (None, None),
    (0.5, -0.5),  # lo > hi gives hi
    (np.nan, 1.0),
    (-1.0, np.nan),
    (0.0, 0.0),
]


@needs_cxx
@covers("gm_clip_f32", "gm_clip_f64")
@pytest.mark.parametrize("dtype, suffix", [(np.float32, "f32"), (np.float64, "f64")])
@pytest.mark.parametrize("n, block, max_blocks", CLIP_SHAPES)
def test_clip_kernel_matches_numpy(dtype, suffix, n, block, max_blocks):
    rng = np.random.default_rng(n)
    x = _clip_input(n, dtype, rng)
    grid, blk = grid_stride_config(n, block, max_blocks)
    for lo, hi in CLIP_BOUNDS:
        out = np.full(n, 12345.0, dtype)
        lo_c = dtype(-np.inf if lo is None else lo)
        hi_c = dtype(np.inf if hi is None else hi)
        emu_launch("clip.cu", f"gm_clip_{suffix}", grid, blk, [x, out, lo_c, hi_c, np.int64(n)])
        expect = _clip_reference(
            x, None if lo is None else dtype(lo), None if hi is None else dtype(hi)
        )
        np.testing.assert_array_equal(out, expect, err_msg=f"n={n} lo={lo} hi={hi}")


@needs_cxx
@covers("gm_clip_f32", "gm_clip_f64")
@pytest.mark.parametrize("dtype, suffix", [(np.float32, "f32"), (np.float64, "f64")])
def test_clip_kernel_in_place_and_empty(dtype, suffix):
    rng = np.random.default_rng(7)
    x = _clip_input(777, dtype, rng)
    expect = _clip_reference(x, dtype(-1), dtype(0.5))
    grid, blk = grid_stride_config(x.size)
    emu_launch(
        "clip.cu", f"gm_clip_{suffix}", grid, blk, [x, x, dtype(-1), dtype(0.5), np.int64(x.size)]
    )  # out aliases x: one buffer
    np.testing.assert_array_equal(x, expect)
    empty = np.zeros(0, dtype)
    emu_launch(
        "clip.cu",
        f"gm_clip_{suffix}",
        1,
        256,
        [empty, empty.copy(), dtype(-1), dtype(1), np.int64(0)],
    )


# ------------------------------------------------------------------------------------------
# matmul.cu

MATMUL_TILE = {np.float32: 128, np.float64: 64}
MATMUL_SHAPES = [  # (batch, M, N, K): size one, ragged tiles, K not a multiple of 8, K = 0,
    (1, 1, 1, 1),  # unaligned rows (scalar loads) and aligned ones (vector loads)
    (1, 1, 7, 3),
    (1, 5, 1, 9),
    (1, 64, 64, 64),
    (1, 129, 66, 12),
    (1, 67, 131, 20),
    (2, 33, 17, 5),
    (1, 6, 5, 0),
]


def _matmul_reference(a, b):
    """The NumPy path of the matmul op, computed in float64."""
    return np.matmul(a.astype(np.float64), b.astype(np.float64))


def _launch_matmul(dtype, a, b, c, stride_a, stride_b, batch, guard="end"):
    M, K = a.shape[-2:]
    N = b.shape[-1]
    tile = MATMUL_TILE[dtype]
    tiles = -(-M // tile) * -(-N // tile)
    suffix = "f32" if dtype == np.float32 else "f64"
    emu_launch(
        "matmul.cu",
        f"gm_matmul_{suffix}",
        (tiles, 1, batch),
        256,
        [
            a,
            b,
            c,
            np.int32(M),
            np.int32(N),
            np.int32(K),
            np.int64(stride_a),
            np.int64(stride_b),
            np.int64(M * N),
        ],
        guard=guard,
    )


@needs_cxx
@covers("gm_matmul_f32", "gm_matmul_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("batch, M, N, K", MATMUL_SHAPES)
def test_matmul_kernel_matches_numpy(dtype, batch, M, N, K):
    rng = np.random.default_rng(M * 1000 + N * 10 + K)
    a = rng.standard_normal((batch, M, K)).astype(dtype)
    b = rng.standard_normal((batch, K, N)).astype(dtype)
    c = np.full((batch, M, N), np.nan, dtype)
    _launch_matmul(dtype, a, b, c, M * K, K * N, batch)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(c, _matmul_reference(a, b), rtol=tol, atol=tol * max(1, K))


@needs_cxx
@covers("gm_matmul_f32", "gm_matmul_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matmul_kernel_broadcast_batch_and_aligned_buffers(dtype):
    # stride 0 broadcasts B over the batch; guard="start" places every buffer 4096-aligned,
    # so the vector path runs even where the buffer size is not a multiple of 16 bytes.
    rng = np.random.default_rng(3)
    batch, M, N, K = 3, 9, 36, 8
    a = rng.standard_normal((batch, M, K)).astype(dtype)
    b = rng.standard_normal((K, N)).astype(dtype)
    c = np.full((batch, M, N), np.nan, dtype)
    _launch_matmul(dtype, a, b, c, M * K, 0, batch, guard="start")
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(c, _matmul_reference(a, b[None]), rtol=tol, atol=tol * K)


# ------------------------------------------------------------------------------------------
# Coverage: new kernels cannot land untested


@needs_cxx
@pytest.mark.parametrize("path", sorted(KERNELS_DIR.glob("*.cu")), ids=lambda p: p.name)
def test_every_kernel_file_compiles_in_the_lane(path):
    module = load(path.name)
    assert sorted(module.kernels) == sorted(kernels_in(path))
