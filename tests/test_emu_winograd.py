"""kernels/winograd.cu in the emulation lane: each transform against the array code of
gpumath/ops/_conv_winograd.py, and the whole chain (weight and input transforms, a NumPy
batched matmul, output transform) against SciPy's float64 convolution.

The launch arguments come from gpumath.ops._conv_winograd_cuda, the helpers the CuPy path
uses. Outputs are poisoned with NaN first, so a work item the grid-stride loops skip shows.
"""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/, package or not

from cuda_emu import emu_launch  # noqa: E402
from cuda_emu.coverage import covers  # noqa: E402
from cuda_emu.runner import CXX  # noqa: E402
from test_conv_reference import reference_conv  # noqa: E402

from gpumath.ops import _conv_winograd as wg  # noqa: E402
from gpumath.ops import _conv_winograd_cuda as wg_cuda  # noqa: E402
from gpumath.ops._conv_args import conv_geometry, make_geometry  # noqa: E402
from gpumath.ops._conv_xp import conv_im2col  # noqa: E402
from gpumath.testing import rel_error  # noqa: E402

needs_cxx = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")


def _chain(m: int, suffix: str) -> list[str]:
    """The three kernels of F(m x m, 3 x 3) for one dtype, in launch order."""
    return [f"gm_winograd_{what}_m{m}_{suffix}" for what in ("weight", "input", "output")]


ALL_KERNELS = [k for m in (2, 4) for s in ("f32", "f64") for k in _chain(m, s)]

# (x shape, weight shape, padding, groups): batch 1 and 1 input channel with a single output
# pixel (one tile, mostly clipped; 8 output channels, so that the relative error is not that
# of one number), ragged tiles for both m (out 7 x 10), asymmetric padding, groups 2, depthwise.
CASES = [
    ((1, 1, 3, 3), (8, 1, 3, 3), 0, 1),
    ((1, 1, 7, 10), (2, 1, 3, 3), 1, 1),
    ((2, 3, 6, 9), (4, 3, 3, 3), ((0, 2), (1, 0)), 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), 1, 2),
    ((1, 3, 6, 5), (3, 1, 3, 3), "same", 3),
]
# Relative error of the whole convolution against float64: F(4x4, 3x3) loses more digits
# than F(2x2, 3x3) (module docstring of _conv_winograd.py).
# float32 bounds as documented there (measured over 150 seeds: up to 3e-7 and 2e-6);
# float64 ~1e-15.
CONV_RTOL = {(2, np.float32): 2e-6, (4, np.float32): 1e-4, (2, np.float64): 1e-12,
             (4, np.float64): 1e-12}  # fmt: skip
# Each transform against the array code in float64: the same sums in another order.
STEP_RTOL = {np.float32: 1e-6, np.float64: 1e-13}


def _suffix(dtype) -> str:
    return "f32" if np.dtype(dtype) == np.float32 else "f64"


def _weight(w, m, geom, *, grid=None, block=wg_cuda.THREADS):
    filters = w.shape[0] * w.shape[1]
    u = np.full(((m + 2) ** 2, geom.groups, w.shape[0] // geom.groups, w.shape[1]), np.nan,
                w.dtype)  # fmt: skip
    grid = grid or wg_cuda.launch_grid(filters)
    emu_launch("winograd.cu", f"gm_winograd_weight_m{m}_{_suffix(w.dtype)}", grid, block,
               [w, u, np.int64(filters)])  # fmt: skip
    return u


def _input(x, m, geom, *, grid=None, block=wg_cuda.THREADS):
    th, tw = wg.tile_counts(geom, m)
    tiles = geom.batch * th * tw
    c, g = geom.in_channels, geom.groups
    v = np.full(((m + 2) ** 2, g, c // g, tiles), np.nan, x.dtype)
    grid = grid or wg_cuda.launch_grid(c * tiles)
    emu_launch("winograd.cu", f"gm_winograd_input_m{m}_{_suffix(x.dtype)}", grid, block,
               [x, v, *wg_cuda.input_args(geom, m)])  # fmt: skip
    return v


def _output(prod, bias, m, geom, *, grid=None, block=wg_cuda.THREADS):
    out = np.full(geom.out_shape, np.nan, prod.dtype)
    work = geom.out_channels * prod.shape[-1]
    grid = grid or wg_cuda.launch_grid(work)
    args = [prod, bias, np.int32(bias is not None), out, *wg_cuda.output_args(geom, m)]
    emu_launch("winograd.cu", f"gm_winograd_output_m{m}_{_suffix(prod.dtype)}", grid, block,
               args)  # fmt: skip
    return out


def _data(case, dtype, rng, with_bias=True):
    xs, ws, padding, groups = case
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if with_bias else None
    geom = conv_geometry(x, w, b, nd=2, stride=1, padding=padding, dilation=1, groups=groups,
                         op="lane")  # fmt: skip
    return x, w, b, geom


def _assert_rel(actual, desired, rtol, what):
    assert np.isfinite(actual).all(), f"{what}: entries left unwritten (NaN poison)"
    err = rel_error(actual, desired)
    assert err < rtol, f"{what}: relative error {err:.3g} >= {rtol:g}"


@needs_cxx
@covers(*ALL_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_transforms_match_the_array_code(case, m, dtype, rng):
    x, w, b, geom = _data(case, dtype, rng)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    tol = STEP_RTOL[dtype]
    u = _weight(w, m, geom)
    _assert_rel(u, wg.weight_transform(w64, m, geom, np), tol, "U")
    v = _input(x, m, geom)
    _assert_rel(v, wg.input_transform(x64, m, geom, np), tol, "V")
    # The output transform alone, on products that are not those of any convolution.
    prod = rng.standard_normal((*u.shape[:3], v.shape[-1])).astype(dtype)
    for bias in (b, None):
        expect = wg.output_transform(prod.astype(np.float64), bias, m, geom, np)
        _assert_rel(_output(prod, bias, m, geom), expect, tol, f"output, bias {bias is not None}")


@needs_cxx
@covers(*ALL_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_kernels_compose_to_the_scipy_convolution(case, m, dtype, rng):
    x, w, b, geom = _data(case, dtype, rng, with_bias=case[0][1] != 3)
    out = _output(np.matmul(_weight(w, m, geom), _input(x, m, geom)), b, m, geom)
    expect = reference_conv(x, w, b, padding=case[2], groups=case[3])
    assert out.dtype == dtype
    _assert_rel(out, expect, CONV_RTOL[m, dtype], f"F({m}x{m}, 3x3) {np.dtype(dtype)}")


@needs_cxx
@covers(*_chain(4, "f32"), *_chain(2, "f64"))
def test_any_grid_and_block_covers_the_work_once(rng):
    # Grids far smaller than the work (the grid-stride loop goes round many times), of one
    # block, and larger than the work (whole idle tail blocks), with odd block sizes: the
    # results must not change, and nothing may be left unwritten.
    assert [wg_cuda.launch_grid(n) for n in (1, 256, 257)] == [(1,), (1,), (2,)]
    assert wg_cuda.launch_grid(10**12) == (1 << 16,)  # capped: the loops cover the rest
    x, w, b, geom = _data(((2, 3, 11, 10), (5, 3, 3, 3), 1, 1), np.float32, rng)
    xd, wd, bd, geomd = _data(((1, 2, 5, 7), (3, 2, 3, 3), ((1, 0), (0, 2)), 1), np.float64, rng)
    for xx, ww, bb, gg, m in ((x, w, b, geom, 4), (xd, wd, bd, geomd, 2)):
        u, v = _weight(ww, m, gg), _input(xx, m, gg)
        prod = np.matmul(u, v)
        out = _output(prod, bb, m, gg)
        assert all(np.isfinite(a).all() for a in (u, v, out))
        past_the_work = v[0].size // 64 + 7  # blocks of 64 threads for (c, tile) items
        for grid, block in ((1, 32), (3, 96), (2, 1), (past_the_work, 64), (50, 256)):
            tag = f"m={m} grid {grid} block {block}"
            np.testing.assert_array_equal(_weight(ww, m, gg, grid=grid, block=block), u, tag)
            np.testing.assert_array_equal(_input(xx, m, gg, grid=grid, block=block), v, tag)
            np.testing.assert_array_equal(_output(prod, bb, m, gg, grid=grid, block=block), out,
                                          tag)  # fmt: skip


@needs_cxx
@covers(*_chain(2, "f64"), *_chain(4, "f64"))
def test_negative_padding_and_nan_follow_the_array_code(rng):
    # The backward pass runs Winograd on geometries with negative padding (cropping); the
    # ragged last tiles then read input rows and columns past the cropped edge, which the
    # array code reads too (they only reach clipped outputs): the same V, the same result.
    x = rng.standard_normal((1, 2, 9, 8))
    w = rng.standard_normal((3, 2, 3, 3))
    for padding in (((-1, 2), (2, -2)), ((2, -1), (-2, 1))):
        geom = make_geometry(1, 2, 3, 1, (9, 8), (3, 3), (1, 1), (1, 1), padding, op="lane")
        for m in (2, 4):
            v = _input(x, m, geom)
            np.testing.assert_allclose(v, wg.input_transform(x, m, geom, np), rtol=1e-13,
                                       atol=1e-13, err_msg=str(padding))  # fmt: skip
            out = _output(np.matmul(_weight(w, m, geom), v), None, m, geom)
            expect = conv_im2col(x, w, None, geom, np)
            _assert_rel(out, expect, 1e-12, f"m={m} padding {padding}")
    # A NaN reaches every output whose window holds it, and stays within the output tiles
    # that read it. The kernels skip the zero coefficients of B^T and A^T, which the array
    # code multiplies (0 * NaN), so they spread it over fewer outputs of those tiles.
    x[0, 1, 4, 5] = np.nan
    geom = make_geometry(1, 2, 3, 1, (9, 8), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), op="lane")
    window = np.isnan(conv_im2col(x, w, None, geom, np))
    tiles = np.isnan(wg.conv_winograd(x, w, None, geom, np, tile=4))
    for m in (2, 4):
        out = np.isnan(_output(np.matmul(_weight(w, m, geom), _input(x, m, geom)), None, m, geom))
        assert (out >= window).all() and (out <= tiles).all(), f"m={m}"


class _FakeCupy(types.ModuleType):
    """Just enough of CuPy for gpumath.ops._conv_winograd_cuda, backed by NumPy."""

    ndarray = type("ndarray", (), {})  # no NumPy array is one: inputs stay NumPy arrays
    ascontiguousarray = staticmethod(np.ascontiguousarray)
    empty = staticmethod(np.empty)
    matmul = staticmethod(np.matmul)


@needs_cxx
@covers(*_chain(4, "f32"), *_chain(2, "f64"), *_chain(4, "f64"))
def test_cuda_dispatch_and_launchers_through_the_lane(monkeypatch, rng):
    # The CuPy branch of conv2d(algorithm="winograd") and of its backward pass, with
    # _conv_winograd_cuda's argument marshalling and every launch sent to the lane.
    from gpumath import _kernels
    from gpumath.ops import conv as conv_module

    def launch(kernel, grid, block, args, *, op, shapes="", shared_mem=0):
        assert op == "conv2d" and shared_mem == 0 and "weight" in shapes
        emu_launch("winograd.cu", kernel, grid, block, list(args))

    launched = []
    monkeypatch.setitem(sys.modules, "cupy", _FakeCupy("cupy"))
    monkeypatch.setattr(_kernels, "get_kernel", lambda family, name: launched.append(name) or name)
    monkeypatch.setattr(_kernels, "launch", launch)
    monkeypatch.setattr(wg, "is_cupy_namespace", lambda xp: True)

    x = rng.standard_normal((2, 4, 9, 7)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    kw = {"padding": ((1, 0), 1), "groups": 2}
    out = conv_module.conv2d(x, w, b, algorithm="winograd", **kw)
    assert out.dtype == np.float32 and out.shape == (2, 6, 8, 7)
    _assert_rel(out, reference_conv(x, w, b, **kw), 1e-4, "conv2d float32")
    assert launched == _chain(4, "f32")

    launched.clear()  # an output side below 4 picks F(2x2, 3x3)
    x2, w2 = rng.standard_normal((1, 3, 5, 9)), rng.standard_normal((2, 3, 3, 3))
    out = conv_module.conv2d(x2, w2, algorithm="winograd")
    _assert_rel(out, reference_conv(x2, w2), 1e-12, "conv2d float64")
    assert launched == _chain(2, "f64")

    launched.clear()  # what Winograd cannot run is refused before any launch
    with pytest.raises(ValueError, match=r'algorithm="winograd" cannot run.*stride 1'):
        conv_module.conv2d(x2, w2, stride=2, algorithm="winograd")
    assert launched == []

    # Backward: grad_x is a stride-1 convolution with negative padding, through the kernels.
    x3, w3 = rng.standard_normal((1, 2, 10, 9)), rng.standard_normal((3, 2, 3, 3))
    kw3 = {"stride": 2, "padding": (1, 0)}
    y = conv_module.conv2d(x3, w3, **kw3)
    g = rng.standard_normal(y.shape)
    gx, _, _ = conv_module.conv2d_backward(g, x3, w3, algorithm="winograd", **kw3)
    assert launched[-3:] == _chain(4, "f64")
    assert abs(np.vdot(y, g) - np.vdot(x3, gx)) < 1e-10 * np.linalg.norm(y) * np.linalg.norm(g)
