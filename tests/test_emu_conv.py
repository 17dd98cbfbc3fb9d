"""kernels/conv.cu in the emulation lane, against the NumPy path of gpumath's convolution.

The launch arguments come from gpumath.ops._conv_cuda (the same helpers the CuPy path uses),
so the lane checks the launcher's grid and shared-memory sizing too. Shapes stay tiny: the
lane switches fibers at every barrier (~1 us each).
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

from gpumath.ops import _conv_cuda  # noqa: E402
from gpumath.ops._conv_args import conv_geometry, make_geometry  # noqa: E402
from gpumath.ops._conv_xp import conv_im2col  # noqa: E402

needs_cxx = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")

# (x shape, weight shape, stride, padding, dilation, groups): ragged tiles (sizes that are not
# multiples of 16 or 64), stride 2, dilation 2, groups 2, depthwise, 1x1, batch 1, 3-D.
CASES = [
    ((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 1, 1),
    ((1, 3, 5, 7), (5, 3, 3, 3), 1, 1, 1, 1),
    ((2, 4, 9, 18), (6, 2, 3, 2), (2, 1), ((1, 2), (0, 1)), (1, 2), 2),
    ((1, 2, 17, 11), (3, 2, 3, 3), 2, 1, 2, 1),
    ((1, 4, 6, 5), (4, 1, 3, 3), 1, "same", 1, 4),
    ((2, 3, 4, 5), (9, 3, 1, 1), 1, 0, 1, 1),
    ((1, 2, 3, 4, 5), (3, 2, 2, 3, 2), (1, 2, 1), 1, (2, 1, 1), 1),
    ((1, 4, 3, 3, 3), (2, 2, 1, 1, 1), 2, 0, 1, 2),
]


def _launch(algorithm, x, w, bias, geom):
    dtype = x.dtype
    suffix = "f32" if dtype == np.float32 else "f64"
    name = "direct" if algorithm == "direct" else "igemm"
    grid, _ = _conv_cuda.launch_config(geom, algorithm)
    shared = _conv_cuda.direct_shared_bytes(geom, dtype.itemsize) if algorithm == "direct" else 0
    out = np.full(geom.out_shape, np.nan, dtype)  # poisoned
    has_bias = bias is not None
    tables = [] if algorithm == "direct" else [_conv_cuda.tap_table(geom)]
    args = [x, w, *tables, bias if has_bias else w, np.int32(has_bias), out]
    args += _conv_cuda.kernel_args(geom)
    emu_launch("conv.cu", f"gm_conv_{name}_{suffix}", grid, 256, args, shared_bytes=shared)
    return out


def _check(algorithm, dtype, case, with_bias, rng):
    xs, ws, stride, padding, dilation, groups = case
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    bias = rng.standard_normal(ws[0]).astype(dtype) if with_bias else None
    nd = len(xs) - 2
    geom = conv_geometry(
        x, w, bias, nd=nd, stride=stride, padding=padding, dilation=dilation, groups=groups,
        op="lane",
    )  # fmt: skip
    out = _launch(algorithm, x, w, bias, geom)
    expect = conv_im2col(x.astype(np.float64), w.astype(np.float64), bias, geom, np)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expect, rtol=tol, atol=tol * 10, err_msg=str(case))


@needs_cxx
@covers("gm_conv_direct_f32", "gm_conv_direct_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_direct_kernel_matches_numpy(dtype, case):
    rng = np.random.default_rng(len(case[0]) * 100 + case[0][1])
    _check("direct", dtype, case, with_bias=case[0][0] == 2, rng=rng)


@needs_cxx
@covers("gm_conv_igemm_f32", "gm_conv_igemm_f64")
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_implicit_gemm_kernel_matches_numpy(dtype, case):
    rng = np.random.default_rng(len(case[0]) * 100 + case[0][1] + 1)
    _check("implicit_gemm", dtype, case, with_bias=case[0][1] != 3, rng=rng)


@needs_cxx
@covers("gm_conv_igemm_f32", "gm_conv_igemm_f64", "gm_conv_direct_f64")
def test_kernels_on_larger_tiles_and_negative_padding():
    # > 64 output channels and > 128 pixels across a batch boundary (several GEMM tiles),
    # R = 3 * 9 = 27 (ragged K steps of 16 and 8), and a geometry with negative padding
    # (cropping), as the backward pass builds.
    rng = np.random.default_rng(5)
    for dtype, tol in ((np.float32, 1e-5), (np.float64, 1e-12)):
        x = rng.standard_normal((2, 3, 11, 12)).astype(dtype)
        w = rng.standard_normal((70, 3, 3, 3)).astype(dtype)
        geom = conv_geometry(x, w, None, nd=2, stride=1, padding=0, dilation=1, groups=1, op="lane")
        expect = conv_im2col(x.astype(np.float64), w.astype(np.float64), None, geom, np)
        got = _launch("implicit_gemm", x, w, None, geom)
        np.testing.assert_allclose(got, expect, rtol=tol, atol=tol * 10)
    x64 = rng.standard_normal((1, 2, 7, 8))
    w64 = rng.standard_normal((2, 2, 3, 3))
    crop = make_geometry(1, 2, 2, 1, (7, 8), (3, 3), (1, 2), (1, 1), ((-1, 2), (3, -2)), op="lane")
    expect = conv_im2col(x64, w64, None, crop, np)
    for algorithm in ("direct", "implicit_gemm"):
        got = _launch(algorithm, x64, w64, None, crop)
        np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12, err_msg=algorithm)


class _FakeCupy(types.ModuleType):
    """Just enough of CuPy for gpumath.ops._conv_cuda, backed by NumPy."""

    ndarray = type("ndarray", (), {})  # no NumPy array is one: inputs stay NumPy arrays
    ascontiguousarray = staticmethod(np.ascontiguousarray)
    asarray = staticmethod(np.asarray)
    empty = staticmethod(np.empty)
    cuda = types.SimpleNamespace(Device=lambda: types.SimpleNamespace(id=0))


@needs_cxx
@covers("gm_conv_direct_f32", "gm_conv_igemm_f32", "gm_conv_igemm_f64")
def test_cuda_dispatch_and_launchers_through_the_lane(monkeypatch):
    # The CuPy branch of gpumath.ops.conv (algorithm choice, fallbacks, argument marshalling
    # in _conv_cuda, the backward pass through the kernels) with every launch sent to the lane.
    from gpumath import _kernels
    from gpumath.ops import conv as conv_module

    def launch(kernel, grid, block, args, *, op, shapes="", shared_mem=0):
        emu_launch("conv.cu", kernel, grid, block, list(args), shared_bytes=shared_mem)

    launched = []
    monkeypatch.setitem(sys.modules, "cupy", _FakeCupy("cupy"))
    monkeypatch.setattr(_kernels, "get_kernel", lambda family, name: launched.append(name) or name)
    monkeypatch.setattr(_kernels, "launch", launch)
    monkeypatch.setattr(conv_module, "is_cupy_namespace", lambda xp: True)
    monkeypatch.setattr(_conv_cuda, "_tables", {})
    rng = np.random.default_rng(11)

    x = rng.standard_normal((2, 4, 9, 7)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    kw = {"stride": 2, "padding": ((1, 0), 1), "dilation": (1, 2), "groups": 2}
    geom = conv_geometry(x, w, b, nd=2, op="t", **kw)
    expect = conv_im2col(x.astype(np.float64), w.astype(np.float64), b, geom, np)
    for algorithm in ("direct", "implicit_gemm", "auto"):
        out = conv_module.conv2d(x, w, b, algorithm=algorithm, **kw)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, expect, rtol=1e-5, atol=1e-5, err_msg=algorithm)
    assert launched == ["gm_conv_direct_f32", "gm_conv_igemm_f32", "gm_conv_direct_f32"]

    # A direct tile too large for shared memory: by name it refuses, "auto" falls back.
    x1 = rng.standard_normal((1, 1, 130, 130)).astype(np.float32)
    w1 = rng.standard_normal((1, 1, 31, 31)).astype(np.float32)
    with pytest.raises(ValueError, match="shared memory"):
        conv_module.conv2d(x1, w1, stride=4, dilation=4, algorithm="direct")
    launched.clear()
    out = conv_module.conv2d(x1, w1, stride=4, dilation=4)
    assert launched == ["gm_conv_igemm_f32"]
    g1 = conv_geometry(x1, w1, None, nd=2, stride=4, padding=0, dilation=4, groups=1, op="t")
    np.testing.assert_allclose(out, conv_im2col(x1, w1, None, g1, np), rtol=1e-4, atol=1e-4)

    # Backward: grad_x as a forward convolution through the implicit-GEMM kernel (float64).
    x3 = rng.standard_normal((1, 2, 5, 4, 6))
    w3 = rng.standard_normal((3, 2, 2, 3, 2))
    kw3 = {"stride": (1, 2, 2), "padding": 1}
    y = conv_module.conv3d(x3, w3, algorithm="implicit_gemm", **kw3)
    g = rng.standard_normal(y.shape)
    launched.clear()
    gx, gw, _ = conv_module.conv3d_backward(g, x3, w3, algorithm="implicit_gemm", **kw3)
    assert launched == ["gm_conv_igemm_f64"]
    assert abs(np.vdot(y, g) - np.vdot(x3, gx)) < 1e-10 * np.linalg.norm(y) * np.linalg.norm(g)
    assert abs(np.vdot(y, g) - np.vdot(w3, gw)) < 1e-10 * np.linalg.norm(y) * np.linalg.norm(g)
