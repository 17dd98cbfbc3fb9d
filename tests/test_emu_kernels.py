"""Every CUDA kernel in kernels/*.cu, run unchanged on the CPU in the emulation lane
(tests/cuda_emu) and compared with the NumPy path of its op.

This file holds the lane tests of clip, matmul (with gm_linear and the compile-time variants
that benchmarks/tune_matmul.py times) and clip_norm; a new family gets its own
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
    (1000, 32, 1),  # small grids: the main loop's four-vector trips, then its remainder
    (4099, 32, 2),
    (8195, 64, 3),
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
    grid, blk = grid_stride_config(x.size, block=32, max_blocks=2)  # four-vector trips
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


LINEAR_SHAPES = [  # (M, N, K): size one, ragged tiles, K not a multiple of the vector or 8,
    (1, 1, 1),  # K = 0 (bias and activation only), unaligned rows (scalar loads)
    (3, 5, 7),
    (1, 9, 16),
    (130, 67, 12),
    (66, 129, 21),
    (5, 4, 0),
]
ACTIVATION_CODES = {None: 0, "relu": 1, "gelu": 2, "sigmoid": 3, "tanh": 4}


def _linear_reference(x, w, bias, activation):
    """activation(x @ w.T + bias) written out in float64 (SciPy's erfc for the exact gelu:
    1 + erf(v / sqrt 2) would cancel for v < -3)."""
    from scipy.special import erfc

    v = x.astype(np.float64) @ w.astype(np.float64).T
    if bias is not None:
        v = v + bias.astype(np.float64)
    if activation == "relu":
        return np.where(v < 0, 0.0, v)
    if activation == "gelu":
        return 0.5 * v * erfc(-v / np.sqrt(2))
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-v))
    if activation == "tanh":
        return np.tanh(v)
    return v


def _launch_linear(x, w, bias, y, activation, defines=None):
    (m, k), n = x.shape, w.shape[0]
    tile = MATMUL_TILE[x.dtype.type]
    suffix = "f32" if x.dtype == np.float32 else "f64"
    emu_launch(
        "matmul.cu",
        f"gm_linear_{suffix}",
        -(-m // tile) * -(-n // tile),
        256,
        [
            x,
            w,
            w if bias is None else bias,
            y,
            np.int32(m),
            np.int32(n),
            np.int32(k),
            np.int32(bias is not None),
            np.int32(ACTIVATION_CODES[activation]),
        ],
        defines=defines,
    )


@needs_cxx
@covers("gm_linear_f32", "gm_linear_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("M, N, K", LINEAR_SHAPES)
def test_linear_kernel_matches_float64_formula(dtype, M, N, K):
    rng = np.random.default_rng(M * 1000 + N * 10 + K)
    x = rng.standard_normal((M, K)).astype(dtype)
    w = rng.standard_normal((N, K)).astype(dtype)
    bias = rng.standard_normal(N).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for activation in ACTIVATION_CODES:  # every activation, with and without a bias
        for b in (bias, None) if activation in (None, "gelu") else (bias,):
            y = np.full((M, N), np.nan, dtype)
            _launch_linear(x, w, b, y, activation)
            expect = _linear_reference(x, w, b, activation)
            np.testing.assert_allclose(
                y,
                expect,
                rtol=tol,
                atol=tol * max(1, K),
                err_msg=f"{activation} bias={b is not None}",
            )


# Compile-time variants of kernels/matmul.cu that benchmarks/tune_matmul.py times on a GPU.
# The default build (bk 16, unroll 16) is what the other lane tests run.
MATMUL_VARIANTS = {
    "bk16-unroll8": {"GM_MM_UNROLL_K": 8},
    "bk8-unroll8": {"GM_MM_BK_F32": 8, "GM_MM_UNROLL_K": 8},
    "minblocks2-bk8-unroll2": {"GM_MM_MIN_BLOCKS": 2, "GM_MM_BK_F32": 8, "GM_MM_UNROLL_K": 2},
    "group4": {"GM_MM_GROUP_M": 4},
    "group16": {"GM_MM_GROUP_M": 16},
}


@needs_cxx
@covers("gm_matmul_f32", "gm_linear_f32")
@pytest.mark.parametrize("name", sorted(MATMUL_VARIANTS))
def test_matmul_variants_are_correct(name):
    defines = MATMUL_VARIANTS[name]
    rng = np.random.default_rng(len(name))
    for batch, M, N, K in [(1, 131, 258, 37), (2, 9, 7, 3), (1, 1, 1, 1), (1, 300, 130, 16)]:
        a = rng.standard_normal((batch, M, K)).astype(np.float32)
        b = rng.standard_normal((batch, K, N)).astype(np.float32)
        c = np.full((batch, M, N), np.nan, np.float32)
        tiles = -(-M // 128) * -(-N // 128)
        args = [a, b, c, np.int32(M), np.int32(N), np.int32(K)]
        args += [np.int64(M * K), np.int64(K * N), np.int64(M * N)]
        emu_launch("matmul.cu", "gm_matmul_f32", (tiles, 1, batch), 256, args, defines=defines)
        np.testing.assert_allclose(c, _matmul_reference(a, b), rtol=1e-5, atol=1e-5 * K)
        w = np.ascontiguousarray(b[0].T)
        bias = rng.standard_normal(N).astype(np.float32)
        y = np.full((M, N), np.nan, np.float32)
        _launch_linear(a[0], w, bias, y, "gelu", defines=defines)
        expect = _linear_reference(a[0], w, bias, "gelu")
        np.testing.assert_allclose(y, expect, rtol=1e-5, atol=1e-5 * K)


# ------------------------------------------------------------------------------------------
# clip_norm.cu


def _fake_array(offset_elems, size, itemsize):
    """What clip_norm._chunk_table reads of a CuPy array: its size and data pointer."""
    from types import SimpleNamespace

    return SimpleNamespace(size=size, data=SimpleNamespace(ptr=4096 + offset_elems * itemsize))


# (offset in one buffer, size) of each "array": empty ones, size one, several chunks, an
# unaligned start (scalar path), and the base (first non-empty) above others in memory.
NORM_LAYOUTS = [
    [(0, 1)],
    [(3, 0), (700, 5), (10, 300), (400, 257), (1001, 1), (2000, 0)],
    [(5, 2100), (2200, 33)],
]


def _launch_clip_norm(dtype, layout, max_norm, chunk, poison=None, rng=None):
    from gpumath.ops import clip_norm as cn

    suffix = "f32" if dtype == np.float32 else "f64"
    itemsize = np.dtype(dtype).itemsize
    length = max(o + n for o, n in layout) + 3
    x = (rng.standard_normal(length) * 3).astype(dtype)
    if poison is not None:  # in the middle of the largest array
        o, n = max(layout, key=lambda seg: seg[1])
        x[o + n // 2] = poison
    fakes = [_fake_array(o, n, itemsize) for o, n in layout]
    real_chunk = cn._CHUNK
    cn._CHUNK = chunk  # small chunks: several blocks per array in a lane-sized test
    try:
        table, offsets, total, base = cn._chunk_table(fakes, np.dtype(dtype))
    finally:
        cn._CHUNK = real_chunk
    table[:, 0] += layout[base][0]  # the lane passes the buffer's start as `x`
    nchunks = table.shape[0]
    out = np.full(max(total, 1), np.nan, dtype)
    partials = np.full(nchunks, np.nan)
    arrived = np.zeros(1, np.uint32)
    norm_scale = np.full(2, np.nan)
    norm_out = np.full(1, np.nan, dtype)
    args = [x, table, partials, arrived, np.float64(max_norm), norm_scale, norm_out]
    emu_launch("clip_norm.cu", f"gm_sumsq_{suffix}", nchunks, 256, args)
    emu_launch("clip_norm.cu", f"gm_scale_{suffix}", nchunks, 256, [x, out, table, norm_scale])
    segments = [x[o : o + n] for o, n in layout]
    clipped = [out[off : off + n] for off, (_, n) in zip(offsets, layout, strict=True)]
    return segments, clipped, norm_out[0], norm_scale, arrived


@needs_cxx
@covers("gm_sumsq_f32", "gm_sumsq_f64", "gm_scale_f32", "gm_scale_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("layout", NORM_LAYOUTS, ids=["one", "mixed", "two"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6, 0.0])
def test_clip_norm_kernels_match_float64_formula(dtype, layout, max_norm):
    rng = np.random.default_rng(len(layout) * 7 + int(max_norm))
    segments, clipped, norm, norm_scale, arrived = _launch_clip_norm(
        dtype, layout, max_norm, chunk=100, rng=rng
    )
    expect_norm = np.sqrt(sum(np.sum(s.astype(np.float64) ** 2) for s in segments))
    scale = 1.0 if expect_norm <= max_norm else max_norm / expect_norm
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(norm_scale, [expect_norm, scale], rtol=1e-14)
    np.testing.assert_allclose(norm, expect_norm, rtol=tol)
    assert arrived[0] == 0, "the last block resets the arrival counter"
    for seg, got in zip(segments, clipped, strict=True):
        np.testing.assert_allclose(got, seg.astype(np.float64) * scale, rtol=tol, atol=0)
        if scale == 1.0:
            np.testing.assert_array_equal(got, seg)


@needs_cxx
@covers("gm_sumsq_f32", "gm_scale_f32")
@pytest.mark.parametrize("poison", [np.nan, np.inf])
def test_clip_norm_kernels_nan_and_inf(poison):
    rng = np.random.default_rng(5)
    segments, clipped, norm, _, _ = _launch_clip_norm(
        np.float32, NORM_LAYOUTS[1], 1.0, chunk=64, poison=poison, rng=rng
    )
    if np.isnan(poison):
        assert np.isnan(norm) and all(np.isnan(c).all() for c in clipped)
    else:  # scale 0: finite entries become (signed) zeros, the infinite one NaN
        assert np.isinf(norm)
        for seg, got in zip(segments, clipped, strict=True):
            with np.errstate(invalid="ignore"):  # inf * 0
                np.testing.assert_array_equal(got, seg * np.float32(0))


# ------------------------------------------------------------------------------------------
# Coverage: new kernels cannot land untested


@needs_cxx
@pytest.mark.parametrize("path", sorted(KERNELS_DIR.glob("*.cu")), ids=lambda p: p.name)
def test_every_kernel_file_compiles_in_the_lane(path):
    module = load(path.name)
    assert sorted(module.kernels) == sorted(kernels_in(path))
