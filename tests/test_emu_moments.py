"""kernels/moments.cu in the emulation lane: partial records per block and the final merge,
against NumPy float64 and the NumPy path of gpumath.stats (tests/cuda_emu)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/, package or not

from cuda_emu import emu_launch  # noqa: E402
from cuda_emu.coverage import covers  # noqa: E402
from cuda_emu.runner import CXX  # noqa: E402

from gpumath.stats import _moments  # noqa: E402

needs_cxx = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")

FIELDS = 7
WIDTH = {np.float32: 4, np.float64: 2}  # values per 16-byte vector load
SUFFIX = {np.float32: "f32", np.float64: "f64"}
# (length, batch, block, grid_x): size one, ragged warps and blocks, grid-stride wrap-around,
# blocks with no data at all (length 1 on 3 blocks), several rows per launch.
SHAPES = [
    (1, 1, 32, 3),
    (31, 1, 32, 2),
    (32, 1, 64, 1),
    (33, 2, 32, 3),
    (1000, 1, 128, 3),
    (1000, 3, 64, 2),
    (2**16 + 3, 1, 256, 3),
]


def _record(v: np.ndarray, pilot: float = 0.0) -> np.ndarray:
    """Reference record of the values ``v`` in float64, the mean relative to ``pilot``."""
    v = v.astype(np.float64)
    if v.size == 0:
        return np.array([0, 0, 0, 0, 0, np.inf, -np.inf])
    rel = v - float(pilot)
    m = rel.mean()
    d = rel - m
    return np.array([v.size, m, d @ d, (d**2) @ d, (d**2) @ (d**2), v.min(), v.max()])


def _block_members(length, grid_x, block, width, aligned):
    """Which block reads each element: vector loads first (when aligned), then the tail."""
    stride = grid_x * block
    owner = np.empty(length, np.int64)
    done = (length // width) * width if aligned else 0
    vec = np.arange(done) // width
    owner[:done] = (vec % stride) // block
    owner[done:] = (np.arange(length - done) % stride) // block
    return owner


def _data(length, batch, dtype, rng, offset=0.0):
    return (offset + rng.standard_gamma(2.0, (batch, length))).astype(dtype)


def _launch_partial(x, grid_x, block, guard="start"):
    batch, length = x.shape
    dtype = x.dtype.type
    partials = np.full((batch, grid_x, FIELDS), np.nan)
    emu_launch(
        "moments.cu",
        f"gm_moments_partial_{SUFFIX[dtype]}",
        (grid_x, min(batch, 2)),  # fewer grid rows than data rows: the row loop wraps
        block,
        [x, partials, np.int64(length), np.int64(batch)],
        guard=guard,
    )
    return partials


def _launch_merge(x, partials, *, ddof=1.0, bias=1, fisher=1, block=64):
    batch, parts, _ = partials.shape
    dtype = x.dtype.type
    records = np.full((batch, FIELDS), np.nan)
    stats = np.full((6, batch), np.nan, dtype)
    eps = np.float64(np.finfo(dtype).eps)
    emu_launch(
        "moments.cu",
        f"gm_moments_merge_{SUFFIX[dtype]}",
        min(batch, 2),
        block,
        [
            x,
            partials,
            records,
            stats,
            np.int64(x.shape[1]),
            np.int64(parts),
            np.int64(batch),
            np.float64(ddof),
            np.int32(bias),
            np.int32(fisher),
            eps,
        ],
    )
    return records, stats


def _assert_records(actual, expected, rtol):
    np.testing.assert_array_equal(actual[..., 0], expected[..., 0])  # counts are exact
    np.testing.assert_array_equal(actual[..., 5:], expected[..., 5:])  # min and max too
    for k in range(1, 5):
        scale = np.abs(expected[..., k]).max() + (expected[..., 2].max() if k > 1 else 1.0)
        np.testing.assert_allclose(actual[..., k], expected[..., k], atol=rtol * scale, rtol=0)


@needs_cxx
@covers("gm_moments_partial_f32", "gm_moments_partial_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("length, batch, block, grid_x", SHAPES)
def test_partial_records_per_block(dtype, length, batch, block, grid_x):
    rng = np.random.default_rng(length * 7 + batch)
    x = _data(length, batch, dtype, rng)
    partials = _launch_partial(x, grid_x, block)
    itemsize = np.dtype(dtype).itemsize
    for row in range(batch):
        aligned = (row * length * itemsize) % 16 == 0  # guard="start": the buffer is aligned
        owner = _block_members(length, grid_x, block, WIDTH[dtype], aligned)
        expected = np.stack([_record(x[row][owner == b], x[row, 0]) for b in range(grid_x)])
        _assert_records(partials[row], expected, 1e-12)


@needs_cxx
@covers("gm_moments_partial_f32", "gm_moments_partial_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_partial_scalar_path_when_misaligned(dtype):
    # guard="end" with 37 values: the base is not 16-byte aligned, so every load is scalar.
    x = _data(37, 1, dtype, np.random.default_rng(5))
    partials = _launch_partial(x, 2, 32, guard="end")
    owner = _block_members(37, 2, 32, WIDTH[dtype], aligned=False)
    expected = np.stack([_record(x[0][owner == b], x[0, 0]) for b in range(2)])
    _assert_records(partials[0], expected, 1e-12)


@needs_cxx
@covers("gm_moments_partial_f32", "gm_moments_partial_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_partial_nan_reaches_min_max_and_moments(dtype):
    # A NaN poisons the record of the block that reads it (min and max too, as in NumPy),
    # and only that one; an infinity elsewhere gives the max +inf.
    x = _data(1000, 1, dtype, np.random.default_rng(9))
    x[0, 700] = np.nan
    x[0, 3] = np.inf
    partials = _launch_partial(x, 3, 64)
    owner = _block_members(1000, 3, 64, WIDTH[dtype], aligned=True)
    bad, inf_block = owner[700], owner[3]
    assert bad != inf_block
    assert np.isnan(partials[0, bad, 1:]).all()
    assert partials[0, inf_block, 6] == np.inf and partials[0, inf_block, 0] > 0
    for b in set(range(3)) - {bad, inf_block}:
        _assert_records(partials[0, b], _record(x[0][owner == b], x[0, 0]), 1e-12)


def _numpy_path(row, dtype, *, ddof, bias, fisher):
    """describe's statistics of one row by the NumPy path of gpumath.stats (float64)."""
    axes = (0,)
    m = _moments.moments_xp(row.astype(np.float64), axes, np, minmax=True)
    eps = float(np.finfo(dtype).eps)
    s = _moments.finish(m, np, ddof=ddof, bias=bias, fisher=fisher, eps=eps)
    return [s["mean"], s["variance"], s["skewness"], s["kurtosis"], m.lo, m.hi]


@needs_cxx
@covers("gm_moments_merge_f32", "gm_moments_merge_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("length, batch, block, grid_x", SHAPES)
@pytest.mark.parametrize("ddof, bias, fisher", [(1.0, 1, 1), (0.0, 0, 0)])
def test_merge_matches_numpy(dtype, length, batch, block, grid_x, ddof, bias, fisher):
    rng = np.random.default_rng(length + batch)
    x = _data(length, batch, dtype, rng)
    partials = _launch_partial(x, grid_x, block)
    records, stats = _launch_merge(x, partials, ddof=ddof, bias=bias, fisher=fisher)
    _assert_records(records, np.stack([_record(r, r[0]) for r in x]), 1e-12)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for row in range(batch):
        expect = _numpy_path(x[row], dtype, ddof=ddof, bias=bool(bias), fisher=bool(fisher))
        np.testing.assert_allclose(
            stats[:, row], np.asarray(expect, np.float64).astype(dtype), rtol=tol, atol=tol
        )


@needs_cxx
@covers("gm_moments_merge_f32", "gm_moments_merge_f64", "gm_moments_partial_f64")
def test_large_offset_stays_accurate():
    # 1e8 + noise: E[x^2] - E[x]^2 would lose every digit of the variance; the kernel must
    # match the moments of the noise itself (x - 1e8 is exact in float64).
    rng = np.random.default_rng(11)
    x = 1e8 + rng.standard_gamma(2.0, (1, 5000))
    partials = _launch_partial(x, 3, 128)
    records, stats = _launch_merge(x, partials)
    noise = x[0] - 1e8
    expect = _numpy_path(noise, np.float64, ddof=1.0, bias=True, fisher=True)
    np.testing.assert_allclose(stats[1:4, 0], expect[1:4], rtol=1e-12)
    np.testing.assert_allclose(stats[0, 0] - 1e8, noise.mean(), atol=2e-8)  # one rounding
    naive = (x[0] ** 2).mean() - x[0].mean() ** 2
    assert abs(naive - noise.var()) > 1e-3 * noise.var()  # the test data do cancel


@needs_cxx
@covers("gm_moments_merge_f32", "gm_moments_merge_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_merge_constant_nan_and_empty_partials(dtype):
    # Row 0: constant data -> skewness and kurtosis NaN, variance 0. Row 1: a NaN propagates.
    # Empty partial records (n = 0) in between must not change anything. The rows' first
    # values (the pilots the partial means are relative to) are 0.
    empty = [0, 0, 0, 0, 0, np.inf, -np.inf]
    partials = np.array(
        [
            [[3, 2.0, 0, 0, 0, 2.0, 2.0], empty, [2, 2.0, 0, 0, 0, 2.0, 2.0]],
            [[3, 1.0, 2.0, 0, 2.0, 0.0, 2.0], [1, np.nan, 0, 0, 0, np.nan, np.nan], empty],
        ]
    )
    records, stats = _launch_merge(np.zeros((2, 1), dtype), partials, block=32)
    np.testing.assert_array_equal(records[0], [5, 2.0, 0, 0, 0, 2.0, 2.0])
    np.testing.assert_array_equal(stats[:, 0], np.array([2, 0, np.nan, np.nan, 2, 2], dtype))
    assert records[1, 0] == 4 and np.isnan(records[1, 1:]).all()
    assert np.isnan(stats[:, 1]).all()


@needs_cxx
@covers("gm_moments_partial_f32", "gm_moments_partial_f64", "gm_moments_merge_f32")
@pytest.mark.parametrize(
    "shape, axes, cap",
    [((3 * 2**10 + 5,), (0,), 4), ((37, 19), (0,), 4), ((5, 300), (1,), 2), ((6, 7, 5), (0, 2), 3)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_cuda_path_geometry_end_to_end(shape, axes, cap, dtype):
    # What moments_cuda does on a GPU, step by step: move the reduced axes last, take the
    # launch geometry of the real block size (with a small block cap), run both kernels and
    # compare describe's statistics with the NumPy path.
    rng = np.random.default_rng(sum(shape))
    x = (3.0 + rng.standard_gamma(2.0, shape)).astype(dtype)
    kept_axes = tuple(i for i in range(x.ndim) if i not in axes)
    rows = np.ascontiguousarray(np.transpose(x, kept_axes + axes))
    rows = rows.reshape(-1, int(np.prod([shape[a] for a in axes])))
    blocks_x, blocks_y, merge_block = _moments.launch_geometry(
        rows.shape[1], rows.shape[0], WIDTH[dtype], cap
    )
    assert blocks_x * blocks_y <= max(cap, rows.shape[0]) and merge_block % 32 == 0
    partials = np.full((rows.shape[0], blocks_x, FIELDS), np.nan)
    emu_launch(
        "moments.cu",
        f"gm_moments_partial_{SUFFIX[dtype]}",
        (blocks_x, blocks_y),
        _moments._BLOCK,
        [rows, partials, np.int64(rows.shape[1]), np.int64(rows.shape[0])],
        guard="start",
    )
    _, stats = _launch_merge(rows, partials, block=merge_block)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for r in range(rows.shape[0]):
        expect = _numpy_path(rows[r], dtype, ddof=1.0, bias=True, fisher=True)
        np.testing.assert_allclose(
            stats[:, r], np.asarray(expect, np.float64).astype(dtype), rtol=tol, atol=tol
        )
